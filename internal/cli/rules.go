package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/rules"
)

func newRulesCmd(stdout io.Writer) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List every rule: id, severity, what, why, how to fix",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			all := rules.Default().All()
			switch format {
			case "text":
				for _, r := range all {
					fmt.Fprintf(stdout, "%s  %-8s  %s\n    what: %s\n    why:  %s\n    fix:  %s\n\n", r.ID, r.Severity, r.Title, r.What, r.Why, r.Fix)
				}
				fmt.Fprintln(stdout, "Pickle decision table (first matching row; policy mode default / strict / lenient):")
				for _, d := range policy.DecisionTable() {
					fmt.Fprintf(stdout, "  %-6s %-8s / %-8s / %-8s  %s\n", d.Rule, d.Default, d.Strict, d.Lenient, d.What)
				}
			case "json":
				type jr struct {
					ID, Name, Severity, Title, What, Why, Fix string
					Tags                                      []string
					NotScanned                                bool `json:"not_scanned"`
				}
				var out []jr
				for _, r := range all {
					out = append(out, jr{r.ID, r.Name, r.Severity.String(), r.Title, r.What, r.Why, r.Fix, r.Tags, r.Unscanned})
				}
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			case "markdown":
				fmt.Fprintln(stdout, "| id | severity | title |\n| --- | --- | --- |")
				for _, r := range all {
					fmt.Fprintf(stdout, "| %s | %s | %s |\n", r.ID, r.Severity, r.Title)
				}
				for _, r := range all {
					fmt.Fprintf(stdout, "\n### %s %s\n\n**What.** %s\n\n**Why.** %s\n\n**Fix.** %s\n", r.ID, r.Name, r.What, r.Why, strings.TrimSpace(r.Fix))
				}
				fmt.Fprintln(stdout, "\n### Pickle decision table\n\nThe first matching row decides.\n\n| what the pickle does | rule | default | strict | lenient |\n| --- | --- | --- | --- | --- |")
				for _, d := range policy.DecisionTable() {
					fmt.Fprintf(stdout, "| %s | %s | %s | %s | %s |\n", d.What, d.Rule, d.Default, d.Strict, d.Lenient)
				}
			default:
				return usageErr("unknown --format %q (want text, json or markdown)", format)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text, json or markdown")
	return cmd
}
