package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/impactcom/impactctl/client"
	"github.com/impactcom/impactctl/contract"
	"github.com/impactcom/impactctl/internal/cmdutil"
)

// validBrandName reports whether --brand could be a brand's name: visible
// text that is not all spaces (a numeric value is an ID).
func validBrandName(s string) bool {
	return strings.TrimSpace(s) != "" && len(s) <= 200 && contract.CheckRunes(s) == nil
}

// resolveBrand finds the managed brand --brand names by its exact name
// (one brands list request; a unique case-insensitive match also counts)
// and returns a client scoped to it.
func resolveBrand(ctx context.Context, c *client.Client, name string) (*client.Client, error) {
	agency := c.WithBrand("")
	if ok, err := agency.IsAgency(ctx); err != nil {
		return nil, err
	} else if !ok {
		return nil, client.ErrBrandNeedsAgency
	}
	var exact, folded []client.Advertiser
	for a, err := range agency.Advertisers(ctx, client.ListOptions{PageSize: contract.MaxPageSize}) {
		if err != nil {
			return nil, fmt.Errorf("finding brand %q by name: %w", name, err)
		}
		switch {
		case a.Name == name:
			exact = append(exact, a)
		case strings.EqualFold(a.Name, name):
			folded = append(folded, a)
		}
	}
	found := exact
	if len(found) == 0 {
		found = folded
	}
	switch len(found) {
	case 0:
		return nil, cmdutil.UsageErrorf("no managed brand is named %q: `impactctl brands list` shows the brands this agency manages; give --brand an ID or an exact name", name)
	case 1:
		if !isBrandID(found[0].Id) {
			return nil, fmt.Errorf("brand %q has an ID the Token API does not use: %q", name, found[0].Id)
		}
		return c.WithBrand(found[0].Id), nil
	}
	ids := make([]string, len(found))
	for i, a := range found {
		ids[i] = a.Id
	}
	return nil, cmdutil.UsageErrorf("%d managed brands are named %q (IDs %s): give --brand the ID", len(found), name, strings.Join(ids, ", "))
}
