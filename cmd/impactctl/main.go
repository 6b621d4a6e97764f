// Command impactctl manages impact.com API access tokens from the shell.
package main

import (
	"os"

	"github.com/impactcom/impactctl/commands"
	"github.com/impactcom/impactctl/internal/iostreams"
)

func main() {
	os.Exit(commands.Main(os.Args[1:], iostreams.System()))
}
