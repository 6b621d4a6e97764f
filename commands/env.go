package commands

import (
	"context"
	"time"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/internal/config"
	"github.com/impactcom/impactctl/internal/iostreams"
	"github.com/impactcom/impactctl/output"
)

// cmdEnv is what every command takes from the Factory when it runs: the
// streams and the printer, the global flags it depends on, and the API,
// credentials and config file, resolved only when the run asks for them.
// Run functions get it in their Options and never see the Factory.
type cmdEnv struct {
	IO      *iostreams.IOStreams
	Msgs    *iostreams.Messages
	Printer *output.Printer
	// Yes is --yes; Brand is --brand.
	Yes   bool
	Brand string
	// Getenv reads the environment; Now is the clock filters count from.
	Getenv func(string) string
	Now    func() (time.Time, error)
	Client func(context.Context) (*client.Client, error)
	Creds  func(context.Context) (*config.Credentials, error)
	// ClientFor builds a client for creds with another secret;
	// UpdateConfig changes the config file. A reset of the token in use
	// needs both.
	ClientFor    func(creds *config.Credentials, secret string) (*client.Client, error)
	UpdateConfig func(func(*config.Config) error) (*config.Config, error)
	// TokenClient builds a client for token sid with secret on its own root
	// (kind "agency", "brand" or "" to find out), at creds' URL: proving a
	// rotated token's new secret.
	TokenClient func(creds *config.Credentials, sid, secret, kind string) (*client.Client, error)
	// Config reads the config file; Settings resolves --profile, --api-url
	// and --local against the environment and the config file.
	Config   func() (*config.Config, error)
	Settings globalSettings
}

// env captures the Factory's dependencies for a command; the adapters
// call it once the global flags are parsed.
func (f *Factory) env() cmdEnv {
	return cmdEnv{
		IO: f.IO, Msgs: f.run.msgs, Printer: f.Printer(), Yes: f.opts.Yes, Brand: f.opts.Brand,
		Getenv: f.getenv, Now: f.Now, Client: f.Client, Creds: f.Credentials,
		ClientFor: func(creds *config.Credentials, secret string) (*client.Client, error) {
			return f.newClient(creds.APIURL, creds.AccountSid, secret, creds.Kind, f.opts.Brand)
		},
		UpdateConfig: f.UpdateConfig,
		TokenClient: func(creds *config.Credentials, sid, secret, kind string) (*client.Client, error) {
			return f.newClient(creds.APIURL, sid, secret, kind, "")
		},
		Config:   f.Config,
		Settings: f.settings,
	}
}
