// Package contract holds the Token API's rules that both ends enforce (field limits,
// the characters a string field may hold, the shapes of SIDs and e-mail addresses)
// and shapes both ends read (an event's Changes, notification states). The server
// refuses what breaks the rules; the CLI checks the same rules before it asks a
// question or sends a request, so a refusal never comes after a "yes".
//
// It imports nothing from the server, the client or the commands, so all of them may
// import it.
package contract
