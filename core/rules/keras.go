package rules

// kerasRules covers Keras HDF5 and Keras v3 (.keras) models. Ids in the MG3xx range.
var kerasRules = []Rule{}
