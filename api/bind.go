package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/labstack/echo/v4"
)

// bindStrict decodes a JSON body, rejecting unknown fields and wrong types with the field
// named. An empty body is an empty object.
func bindStrict(c echo.Context, into any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return BadRequest(te.Field, fmt.Sprintf("expected %s", te.Type))
		}
		if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
			return BadRequest(strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`), "unknown field")
		}
		return BadRequest("(body)", "not valid JSON: "+err.Error())
	}
	return nil
}
