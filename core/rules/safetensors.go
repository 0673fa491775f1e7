package rules

import "github.com/modelgate/modelgate/core/finding"

// safetensorsRules covers safetensors files. Ids in the MG7xx range.
var safetensorsRules = []Rule{
	{
		ID: "MG701", Name: "SafetensorsHeaderInvalid", Severity: finding.SeverityHigh,
		Title: "safetensors header is invalid",
		What:  "The 8-byte header length is out of bounds, or the JSON header is not UTF-8, not a JSON object, has duplicate keys, unknown dtypes, missing or extra tensor fields, or a __metadata__ that is not a map of strings. A header length no file of its size could hold by orders of magnitude (limits.Impossible: over 4 GiB and 65536 times the bytes left) is named as an attack on readers' size arithmetic rather than a truncated file.",
		Why:   "The safetensors library writes none of these. Files that readers parse differently (which duplicate key wins, which field counts) are how crafted files look harmless to one tool and not to another.",
		Fix:   "Re-export the tensors with the safetensors library from a trusted source.",
		Tags:  []string{"security", "safetensors", "integrity", "polyglot"},
	},
	{
		ID: "MG702", Name: "SafetensorsLayoutInvalid", Severity: finding.SeverityHigh,
		Title: "safetensors tensor byte ranges are inconsistent",
		What:  "A tensor's data_offsets do not match its shape and dtype, run past the data buffer, overlap another tensor, or leave unreferenced bytes in the data buffer. Shapes or offsets that need more bytes than any file of this size could hold by orders of magnitude (or overflow 64 bits) are named as an attack on readers' size arithmetic.",
		Why:   "Real files lay tensors out back to back and cover the buffer exactly. Overlaps and gaps hide content inside the data buffer that no tensor accounts for.",
		Fix:   "Re-export the tensors with the safetensors library from a trusted source.",
		Tags:  []string{"security", "safetensors", "integrity"},
	},
	{
		ID: "MG703", Name: "SafetensorsTrailingData", Severity: finding.SeverityHigh,
		Title: "Data follows the safetensors data buffer",
		What:  "Bytes remain after the last tensor. modelgate scans them as a nested member (a pickle or archive there is reported separately).",
		Why:   "The safetensors library rejects such files, so the appended content is meant for another loader: a polyglot that passes as safe tensors.",
		Fix:   "Do not load the file with anything but the safetensors library; re-export it from a trusted source.",
		Tags:  []string{"security", "safetensors", "polyglot"},
	},
}
