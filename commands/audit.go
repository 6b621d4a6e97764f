package commands

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/cmdutil"
	"github.com/impactcom/impactctl/internal/pipeline"
)

func newAuditCmd(f *Factory) *cobra.Command {
	return newGroupCmd("audit", "Read the account's record of changes to its API tokens",
		newAuditListCmd(f, nil),
	)
}

// AuditListOptions are `audit list`'s inputs.
type AuditListOptions struct {
	Env     cmdEnv
	Sid     string
	Actor   string
	Filters eventFlags
	options func() (eventOptions, error)
}

func newAuditListCmd(f *Factory, runF func(*AuditListOptions) error) *cobra.Command {
	opts := &AuditListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the account's events: every change to its API tokens, newest first",
		Long: `List the account's events, newest first: every change to one of its API
tokens (created, duplicated, edited, scopes_changed, developer_emails_changed,
reset, disabled, enabled, deleted), every read of an Auth Token (revealed) and
every admin recover (recovered); who did it, from where, what changed and who
was told. With --brand, a managed brand's events. Needs the apitokens.read
scope. -o json or -o jsonl writes the events as the API sends them.`,
		Example: `  impactctl audit list --since 7d
  impactctl audit list --type revealed --since 30d
  impactctl audit list --actor "$SID" -o jsonl`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env = f.env()
			opts.options = func() (eventOptions, error) { return readEventOptions(cmd, opts.Env.Now, &opts.Filters) }
			if runF != nil {
				return runF(opts)
			}
			return auditListRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Sid, "sid", "", "only the events of this token, by SID or name (a deleted one's too, by SID)")
	fl.StringVar(&opts.Actor, "actor", "", "only the changes this token made, by SID or name")
	opts.Filters.register(cmd)
	return cmd
}

func auditListRun(ctx context.Context, opts *AuditListOptions) error {
	o, err := opts.options()
	if err != nil {
		return err
	}
	if o.sidSet {
		if err := tokenFlag("--sid", opts.Sid); err != nil {
			return err
		}
	}
	if o.actorSet {
		if err := tokenFlag("--actor", opts.Actor); err != nil {
			return err
		}
	}
	c, err := opts.Env.Client(ctx)
	if err != nil {
		return err
	}
	// Names resolve to the tokens that have them now; a deleted token's
	// events are asked for by SID.
	if o.sidSet {
		if o.TokenSid, err = pipeline.ResolveSID(ctx, c, opts.Sid); err != nil {
			return err
		}
	}
	if o.actorSet {
		if o.ActorSid, err = pipeline.ResolveSID(ctx, c, opts.Actor); err != nil {
			return err
		}
	}
	return printEvents(ctx, opts.Env, c, o.EventListOptions)
}

// eventOptions are the listing options and which of --sid and --actor were given.
type eventOptions struct {
	client.EventListOptions
	sidSet, actorSet bool
}

// readEventOptions reads the filter flags of cmd, refusing bad or empty values.
func readEventOptions(cmd *cobra.Command, clock func() (time.Time, error), e *eventFlags) (eventOptions, error) {
	for _, name := range []string{"sid", "actor"} {
		if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed && fl.Value.String() == "" {
			return eventOptions{}, cmdutil.UsageErrorf("--%s is empty: leave it out to not filter", name)
		}
	}
	now, err := clock()
	if err != nil {
		return eventOptions{}, err
	}
	o, err := e.options(cmd, now)
	if err != nil {
		return eventOptions{}, err
	}
	out := eventOptions{EventListOptions: o}
	if fl := cmd.Flags().Lookup("sid"); fl != nil {
		out.sidSet = fl.Changed
	}
	if fl := cmd.Flags().Lookup("actor"); fl != nil {
		out.actorSet = fl.Changed
	}
	return out, nil
}
