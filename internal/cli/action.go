package cli

import (
	"github.com/spf13/cobra"

	"github.com/modelgate/modelgate/internal/climain"
)

// newActionCmd is the entry point action.yml runs. It takes no flags: a
// GitHub Action's configuration is its INPUT_* environment.
func newActionCmd(b *build) *cobra.Command {
	return &cobra.Command{
		Use:   "action",
		Short: "Run as the GitHub Action (reads INPUT_* and GITHUB_* from the environment)",
		Long: `Run as modelgate's GitHub Action: read the inputs (INPUT_PATH, INPUT_FAIL-ON,
INPUT_POLICY, INPUT_CHANGED-ONLY, INPUT_SARIF-FILE, INPUT_JSON-FILE,
INPUT_UPLOAD-SARIF, INPUT_CATEGORY, INPUT_COMMENT, INPUT_TOKEN) and the
triggering event, scan, then set the step outputs, write the job summary and
annotations, upload SARIF to code scanning and keep a sticky pull-request
comment. action.yml maps its inputs to these variables.

Exit codes as for scan: 0 pass, 1 findings at or above fail-on, 2 could not
scan (or upload-sarif: true could not upload).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The action reads its policy from the workspace, which may
			// name plugins or require signatures, and a job step does not
			// notice the hand-off's milliseconds: it always runs in
			// modelgate-full.
			if err := b.handOff(cmd.Context(), b.features.GitHubAction != nil, "the GitHub Action"); err != nil {
				return err
			}
			if code := b.features.GitHubAction(cmd.Context(), b.stdout); code != 0 {
				return climain.Exit(code, nil)
			}
			return nil
		},
	}
}
