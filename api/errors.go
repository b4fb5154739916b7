package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/treejar/noor/internal/settings"
)

// ErrorBody is the one shape every error response has:
//
//	{"error": {"code": "validation_failed", "message": "…", "request_id": "…", "fields": [{"field": "…", "message": "…"}]}}
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes what went wrong.
type ErrorDetail struct {
	Code      string                `json:"code"`
	Message   string                `json:"message"`
	RequestID string                `json:"request_id,omitempty"`
	Fields    []settings.FieldError `json:"fields,omitempty"`
}

// Error is an error a handler returns to produce a specific status and code.
type Error struct {
	Status  int
	Code    string
	Message string
	Fields  []settings.FieldError
	Err     error // logged, never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errf builds an *Error.
func Errf(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// BadRequest names the field that is wrong.
func BadRequest(field, message string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: field + ": " + message,
		Fields: []settings.FieldError{{Field: field, Message: message}}}
}

// Upstream reports a failed call to an external service (502) with a reason for the caller.
func Upstream(service string, err error) *Error {
	return &Error{Status: http.StatusBadGateway, Code: "upstream_failed", Message: service + " failed: " + err.Error(), Err: err}
}

func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		rid := c.Response().Header().Get(echo.HeaderXRequestID)
		body := ErrorBody{Error: ErrorDetail{RequestID: rid}}
		status := http.StatusInternalServerError

		var ae *Error
		var he *echo.HTTPError
		var ve *settings.ValidationError
		switch {
		case errors.As(err, &ae):
			status, body.Error.Code, body.Error.Message, body.Error.Fields = ae.Status, ae.Code, ae.Message, ae.Fields
		case errors.As(err, &ve):
			status, body.Error.Code, body.Error.Message, body.Error.Fields = http.StatusUnprocessableEntity, "validation_failed", ve.Error(), ve.Fields
		case errors.As(err, &he):
			status = he.Code
			body.Error.Code = codeFor(status)
			if m, ok := he.Message.(string); ok {
				body.Error.Message = m
			} else {
				body.Error.Message = http.StatusText(status)
			}
		default:
			body.Error.Code = "internal"
			body.Error.Message = "internal error; quote the request id when reporting it"
		}
		if status >= 500 {
			log.Error("request failed", "request_id", rid, "path", c.Path(), "status", status, "err", err)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, body)
	}
}

func codeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusConflict:
		return "conflict"
	case http.StatusUnprocessableEntity:
		return "validation_failed"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "error"
}
