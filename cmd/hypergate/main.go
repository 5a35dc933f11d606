// Command hypergate is the Hypergate gateway and its command-line client.
package main

import (
	"os"

	"github.com/hypergate/hypergate/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
