package mlflow_test

import "time"

func timeNow() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }
