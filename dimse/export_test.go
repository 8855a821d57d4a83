package dimse

import "bytes"

// SendRaw writes raw bytes on the association's connection (tests of malformed PDUs).
func (cl *Client) SendRaw(b []byte) error { return cl.c.write(b) }

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
