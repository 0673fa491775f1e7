package rules

import "github.com/modelgate/modelgate/core/finding"

// ggufRules covers GGUF files and Jinja chat templates. Ids in the MG6xx range.
var ggufRules = []Rule{
	{
		ID: "MG601", Name: "JinjaSandboxEscape", Severity: finding.SeverityCritical,
		Title: "Chat template walks to Python internals (server-side template injection)",
		What:  "A Jinja2 chat template (GGUF tokenizer.chat_template or chat_template in a tokenizer config) reaches attributes such as __globals__, __subclasses__, __builtins__, __class__ or __init__, directly, through |attr(), through a str.format field, or through a name built from pieces.",
		Why:   "Loaders that render chat templates with a non-sandboxed jinja2.Environment (llama-cpp-python before 0.2.72, CVE-2024-34359 \"Llama Drama\") run whatever such a walk reaches, e.g. os.popen, when the model is first used for chat. No real chat template touches these attributes.",
		Fix:   "Do not load this model. If you need it, replace the chat template with the one published by the model's authors and render templates only with jinja2.sandbox.ImmutableSandboxedEnvironment.",
		Tags:  []string{"security", "gguf", "jinja", "ssti", "code-execution", "external/cwe/cwe-1336"},
	},
	{
		ID: "MG602", Name: "JinjaDangerousReference", Severity: finding.SeverityHigh,
		Title: "Chat template references dunder attributes or code-execution names",
		What:  "The template reads a dunder or private attribute, or names os, subprocess, popen, eval, exec, __import__ or similar as an attribute, item or variable.",
		Why:   "These names are only useful for escaping the template engine; chat templates format messages and never need them.",
		Fix:   "Compare the template with the one the model's authors published and treat the file as untrusted until it matches.",
		Tags:  []string{"security", "gguf", "jinja", "ssti"},
	},
	{
		ID: "MG603", Name: "JinjaComputedAttribute", Severity: finding.SeverityHigh,
		Title: "Chat template accesses an attribute whose name is computed",
		What:  "The template uses |attr() with a name that is not a constant, or indexes a template global (cycler, joiner, lipsum, namespace, self ...) or an escaped object with a computed key.",
		Why:   "Computing attribute names at render time is how payloads hide __globals__ and os from static checks; real chat templates read fixed fields.",
		Fix:   "Treat the file as untrusted and replace its chat template with the published one.",
		Tags:  []string{"security", "gguf", "jinja", "ssti", "obfuscation"},
	},
	{
		ID: "MG604", Name: "JinjaObfuscatedName", Severity: finding.SeverityHigh,
		Title: "Chat template spells a sandbox-escape name indirectly",
		What:  "A string in the template names __globals__, __subclasses__ or similar, or builds such a name by concatenation, join, format, slicing, escape sequences (\\x5f) or dict(name=...) keys.",
		Why:   "Obfuscated names exist to defeat substring scanners; combined with attr() or item access they reach Python internals.",
		Fix:   "Treat the file as untrusted and replace its chat template with the published one.",
		Tags:  []string{"security", "gguf", "jinja", "obfuscation"},
	},
	{
		ID: "MG605", Name: "JinjaTemplateLoad", Severity: finding.SeverityMedium,
		Title: "Chat template includes or imports other templates",
		What:  "The template uses {% include %}, {% import %}, {% from %} or {% extends %}.",
		Why:   "Chat templates are self-contained. With a file-system loader these tags read files chosen by the template author.",
		Fix:   "Remove the tag or replace the template with the published one.",
		Tags:  []string{"security", "gguf", "jinja"},
	},
	{
		ID: "MG606", Name: "JinjaTemplateInvalid", Severity: finding.SeverityLow,
		Title: "Chat template is not valid Jinja2",
		What:  "The template does not tokenize or parse as Jinja2 (for example an unterminated string or tag).",
		Why:   "jinja2 refuses such a template, so nothing renders, but a broken template in a published model is unusual and may be a failed attempt at an injection.",
		Fix:   "Replace the template with the one the model's authors published.",
		Tags:  []string{"gguf", "jinja", "integrity"},
	},
	{
		ID: "MG607", Name: "GGUFMalformed", Severity: finding.SeverityMedium,
		Title: "GGUF header, metadata or tensor table is malformed",
		What:  "The GGUF file violates its specification: truncated or oversized counts and strings, unknown value types, duplicate keys or tensor names, a bad alignment, or tensor data that is misaligned, overlapping, leaving gaps or outside the file. A header that declares counts or sizes no file of its size could hold by orders of magnitude (2^64 metadata pairs in a hundred bytes) is reported at high: it targets the reader's size arithmetic (CVE-2024-25664/25665), where a merely truncated file stays medium.",
		Why:   "Writers (gguf-py, llama.cpp) never produce these. Readers disagree on malformed files, which lets a crafted file show one thing to a scanner and another to the loader.",
		Fix:   "Re-download or re-convert the model with llama.cpp's conversion scripts.",
		Tags:  []string{"security", "gguf", "integrity"},
	},
	{
		ID: "MG608", Name: "GGUFTrailingData", Severity: finding.SeverityMedium,
		Title: "Data follows the end of the GGUF tensor data",
		What:  "Bytes remain after the last tensor's padded data. modelgate scans them as a nested member.",
		Why:   "No writer puts anything there; appended content is how polyglot files smuggle a second payload (a pickle, an archive) past format-specific checks.",
		Fix:   "Strip the trailing bytes or re-convert the model; see the findings for the trailing member.",
		Tags:  []string{"security", "gguf", "polyglot"},
	},
}
