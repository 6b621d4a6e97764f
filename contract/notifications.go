package contract

// The states of an event's notification (Notifications[].State): PENDING waits to be
// sent, SENT and FAILED are what sending did, SUPPRESSED is an address that
// unsubscribed, OFF a server that sends no mail, so nothing waits to be sent.
const (
	NotificationPending    = "PENDING"
	NotificationSent       = "SENT"
	NotificationFailed     = "FAILED"
	NotificationSuppressed = "SUPPRESSED"
	NotificationOff        = "OFF"
)
