package dimse

// SendRaw writes raw bytes on the association's connection (tests of malformed PDUs).
func (cl *Client) SendRaw(b []byte) error { return cl.c.write(b) }
