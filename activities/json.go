package activities

import "encoding/json"

func jsonBytes(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

func unmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
