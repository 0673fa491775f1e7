package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/modelgate/modelgate/core/rules"
)

func newRulesCmd(stdout io.Writer) *cobra.Command {
	var format string
	var plugins []string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List every rule: id, severity, what, why, how to fix",
		Long:  "List every rule: id, severity, what, why, how to fix. With --plugin, the plugins' rules too.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch format {
			case "text", "json", "markdown":
			default:
				return usageErr("unknown --format %q (want text, json or markdown)", format)
			}
			cat, err := pluginCatalogue(cmd.Context(), plugins)
			if err != nil {
				return usageErr("%v", err)
			}
			all := cat.All()
			switch format {
			case "text":
				for _, r := range all {
					from := ""
					if r.Plugin != "" {
						from = "  (plugin " + r.Plugin + ")"
					}
					fmt.Fprintf(stdout, "%s  %-8s  %s%s\n    what: %s\n    why:  %s\n    fix:  %s\n\n", r.ID, r.Severity, r.Title, from, r.What, r.Why, r.Fix)
				}
			case "json":
				type jr struct {
					ID, Name, Severity, Title, What, Why, Fix string
					Tags                                      []string
					NotScanned                                bool   `json:"not_scanned"`
					Plugin                                    string `json:"plugin,omitempty"`
				}
				var out []jr
				for _, r := range all {
					out = append(out, jr{r.ID, r.Name, r.Severity.String(), r.Title, r.What, r.Why, r.Fix, r.Tags, r.Unscanned, r.Plugin})
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
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text, json or markdown")
	addPluginFlag(cmd.Flags(), &plugins)
	return cmd
}

// pluginCatalogue is the built-in catalogue plus the rules of the plugins
// named by --plugin, which are started only to describe themselves.
func pluginCatalogue(ctx context.Context, flags []string) (*rules.Catalogue, error) {
	set, err := loadPlugins(ctx, flags, nil, "", nil)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	return rules.Default().With(set.Rules()...)
}
