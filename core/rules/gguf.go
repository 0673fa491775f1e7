package rules

// ggufRules covers GGUF files and Jinja chat templates. Ids in the MG6xx range.
var ggufRules = []Rule{}
