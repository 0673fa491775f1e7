package policy

// legacySafe are data classes of older releases of allowlisted libraries,
// under the names their pickles use; the libraries' own test data (joblib
// 0.8-0.11, pandas 0.x Python 2 pickles) is full of them and today's
// releases still unpickle them. None runs code or touches files beyond
// reading array data:
//   - numpy.matrixlib.defmatrix.matrix is numpy.matrix under its defining
//     module, as Python 2 and early Python 3 pickles name it.
//   - joblib's ZNDArrayWrapper (joblib < 0.10, beside NDArrayWrapper,
//     which the harvest already holds) reads its array from a Z-file next
//     to the pickle as raw bytes; the Z-file is scanned on its own.
//   - pandas' BlockManager and FrozenNDArray are the containers of old
//     DataFrame and MultiIndex pickles.
var legacySafe = set(
	"numpy.matrixlib.defmatrix.matrix",
	"joblib.numpy_pickle.ZNDArrayWrapper", "joblib.numpy_pickle_compat.ZNDArrayWrapper",
	"pandas.core.internals.BlockManager", "pandas.core.internals.managers.BlockManager",
	"pandas.core.indexes.frozen.FrozenNDArray",
)
