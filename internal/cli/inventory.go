package cli

import (
	"runtime"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func addInventoryFlags(f *pflag.FlagSet, fl *scanFlags) {
	f.StringVar(&fl.cyclonedxVersion, "cyclonedx-version", "1.6", "cyclonedx format: CycloneDX spec version, 1.6 or 1.7")
	f.BoolVar(&fl.deterministic, "deterministic", false, "cyclonedx format: derive the serial number from the content (reproducible BOMs)")
}

// newInventoryCmd is `scan --format cyclonedx` with an inventory's
// defaults: it records every model with its verdict against --fail-on and
// exits 0 whatever was found, unless --gate asks for scan's exit codes.
func newInventoryCmd(b *build) *cobra.Command {
	fl := scanFlags{format: "cyclonedx", noGate: true, color: "never"}
	var gate bool
	cmd := &cobra.Command{
		Use:   "inventory [flags] PATH...",
		Short: "Write a CycloneDX ML-BOM of every model under PATHs",
		Long: `Write a CycloneDX 1.6 (or 1.7) JSON BOM with one machine-learning-model
component per model: a model directory is one component with its files as
sub-components, a model file is one component. Each carries the SHA-256 and
size of every file, what the headers say (GGUF architecture and parameters,
safetensors tensors and dtypes, ONNX opset and producer) and the scan's
verdict and finding counts as modelgate:* properties.

Works on every source scan reads: directories, --staged, --git-diff.
Exit code 0 whatever the verdicts (2 on usage errors); with --gate, the
exit codes of scan.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !fl.staged && fl.gitDiff == "" {
				return usageErr("inventory needs a PATH, --staged or --git-diff")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkScanFlags(fl); err != nil {
				return err
			}
			fl.noGate = !gate
			return runScan(cmd.Context(), b, fl, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&fl.output, "output", "o", "", "write the BOM to FILE instead of stdout")
	f.StringVar(&fl.failOn, "fail-on", "high", "verdicts fail on findings at or above: critical, high, medium, low or never")
	f.BoolVar(&gate, "gate", false, "exit as scan does (1 on findings at or above --fail-on, 2 on unscanned content)")
	f.StringVar(&fl.policyFile, "policy", "", "YAML policy file (default: built-in policy)")
	f.StringVar(&fl.root, "root", "", "report paths relative to DIR (default: current directory)")
	f.IntVar(&fl.jobs, "jobs", runtime.GOMAXPROCS(0), "files scanned in parallel, at least 1")
	f.BoolVar(&fl.staged, "staged", false, "inventory the staged content (git index) that the next commit adds")
	f.StringVar(&fl.gitDiff, "git-diff", "", "inventory files added or modified in a revision range: BASE, BASE..HEAD or BASE...HEAD")
	addInventoryFlags(f, &fl)
	return cmd
}
