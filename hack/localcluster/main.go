// Command localcluster is a multi-call binary for a local single-node
// Kubernetes cluster: the control-plane and node components come from the
// upstream command packages (pinned in go.mod); certs, image and etcd are our
// own glue. Usage: localcluster <subcommand> [flags...]
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

type subcommand struct {
	help string
	run  func(args []string) int
}

var subcommands = map[string]subcommand{}

func register(name, help string, run func(args []string) int) {
	subcommands[name] = subcommand{help: help, run: run}
}

func usage() {
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "usage: localcluster <subcommand> [args...]\n\nsubcommands:\n")
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-24s %s\n", n, subcommands[n].help)
	}
}

func main() {
	if len(os.Args) < 2 || strings.HasPrefix(os.Args[1], "-") {
		usage()
		os.Exit(2)
	}
	name := os.Args[1]
	sc, ok := subcommands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "localcluster: unknown subcommand %q\n\n", name)
		usage()
		os.Exit(2)
	}
	// Upstream commands read os.Args themselves (cobra, kubectl plugin
	// handling), so present them the argv they would have as their own binary.
	os.Args = append([]string{name}, os.Args[2:]...)
	os.Exit(sc.run(os.Args[1:]))
}
