package sipmsg_test

import (
	"fmt"

	"github.com/spanrec/spanrec/sipmsg"
)

func ExampleParse() {
	datagram := []byte("SIP/2.0 200 OK\r\n" +
		"v: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK776asdhds\r\n" +
		"f: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n" +
		"t: <sip:+4930123456@example.com;user=phone>;tag=a6c85cf\r\n" +
		"i: a84b4c76e66710@pc33.example.com\r\n" +
		"CSeq: 314159 INVITE\r\n" +
		"c: application/sdp\r\n" +
		"\r\n" +
		"v=0\r\no=- 1 1 IN IP4 192.0.2.4\r\ns=-\r\nc=IN IP4 192.0.2.4\r\nt=0 0\r\n" +
		"m=audio 3456 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n")
	if !sipmsg.Looks(datagram) {
		return
	}
	m, err := sipmsg.Parse(datagram)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.StatusCode, m.Method, m.CallID, m.To.User, m.ToTag)
	for _, md := range m.SDP.Media {
		fmt.Println(md.Type, md.Addr, md.RTPMap[8].Name, md.Direction)
	}
	// Output:
	// 200 INVITE a84b4c76e66710@pc33.example.com +4930123456 a6c85cf
	// audio 192.0.2.4:3456 PCMA sendrecv
}

func ExampleFramer() {
	var f sipmsg.Framer
	stream := "BYE sip:bob@192.0.2.4 SIP/2.0\r\ni: call-1\r\nCSeq: 2 BYE\r\nl: 0\r\n\r\n\r\n\r\n" +
		"SIP/2.0 200 OK\r\ni: call-1\r\nCSeq: 2 BYE\r\nl: 0\r\n\r\n"
	for _, segment := range []string{stream[:20], stream[20:70], stream[70:]} {
		f.Write([]byte(segment), func(msg []byte) {
			m, err := sipmsg.Parse(msg)
			if err == nil {
				fmt.Println(m.Method, m.StatusCode, m.CallID)
			}
		})
	}
	fmt.Printf("%+v\n", f.Stats())
	// Output:
	// BYE 0 call-1
	// BYE 200 call-1
	// {Messages:2 KeepAlives:1 Resyncs:0 Skipped:0 Overflows:0}
}
