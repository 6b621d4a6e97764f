//go:build !unix

package store

import "os"

// mapGeneration has no shared mapping to offer here: the store keeps nothing
// between requests.
func mapGeneration(*os.File) (*generation, error) { return nil, errNoMapping }

func unmapGeneration(*generation) error { return nil }
