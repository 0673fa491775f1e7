package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/modelgate/modelgate/core/plugin/pluginspec"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/report/jsonreport"
	"github.com/modelgate/modelgate/core/rules"
	"github.com/modelgate/modelgate/internal/features"
)

// rulesDocument is `rules --format json`: the same rule objects, with the
// same snake_case keys, as the "rules" array of the JSON scan report, and
// the same schema_version.
type rulesDocument struct {
	SchemaVersion string            `json:"schema_version"`
	Rules         []jsonreport.Rule `json:"rules"`
}

func newRulesCmd(b *build) *cobra.Command {
	stdout := b.stdout
	var format string
	var plugins []string
	cmd := &cobra.Command{
		Use:   "rules [RULE_ID...]",
		Short: "Document every rule (or the ones named): id, severity, what, why, how to fix",
		Long:  "Document every rule (or the ones named): id, severity, what, why, how to fix. With --plugin, the plugins' rules too.",
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case "text", "json", "markdown":
			default:
				return usageErr("unknown --format %q (want text, json or markdown)", format)
			}
			specs, err := pluginSpecs(plugins, nil, "")
			if err != nil {
				return usageErr("%v", err)
			}
			if len(specs) > 0 {
				if err := b.handOff(cmd.Context(), b.features.LoadPlugins != nil, "listing plugin rules"); err != nil {
					return err
				}
			}
			cat, err := pluginCatalogue(cmd.Context(), b.features, specs)
			if err != nil {
				return usageErr("%v", err)
			}
			all := cat.All()
			if len(args) > 0 {
				all = all[:0:0]
				for _, id := range args {
					r, ok := cat.Get(strings.ToUpper(id))
					if !ok {
						return usageErr("unknown rule %q (modelgate rules lists them all)", id)
					}
					all = append(all, r)
				}
			}
			switch format {
			case "text":
				for _, r := range all {
					from := ""
					if r.Plugin != "" {
						from = "  (plugin " + r.Plugin + ")"
					}
					fmt.Fprintf(stdout, "%s  %-8s  %s%s\n    what: %s\n    why:  %s\n    fix:  %s\n\n", r.ID, r.Severity, r.Title, from, r.What, r.Why, r.Fix)
				}
				fmt.Fprintln(stdout, "Pickle decision table (first matching row; policy mode default / strict / lenient):")
				for _, d := range policy.DecisionTable() {
					fmt.Fprintf(stdout, "  %-6s %-8s / %-8s / %-8s  %s\n", d.Rule, d.Default, d.Strict, d.Lenient, d.What)
				}
			case "json":
				doc := rulesDocument{SchemaVersion: report.SchemaVersion, Rules: []jsonreport.Rule{}}
				for _, r := range all {
					doc.Rules = append(doc.Rules, jsonreport.Rule{ID: r.ID, Name: r.Name, Title: r.Title, Severity: r.Severity,
						What: r.What, Why: r.Why, Fix: r.Fix, Tags: r.Tags, NotScanned: r.Unscanned, Plugin: r.Plugin})
				}
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(doc)
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
func pluginCatalogue(ctx context.Context, feat features.Set, specs []pluginspec.Spec) (*rules.Catalogue, error) {
	set, err := loadPlugins(ctx, feat, specs, nil)
	if err != nil || set == nil {
		return rules.Default(), err
	}
	defer set.Close()
	return rules.Default().With(set.Rules()...)
}
