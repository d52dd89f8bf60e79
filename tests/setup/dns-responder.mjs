// A DNS server of the test's own, run inside its network namespace (tests/egress.test.ts): every A
// question is answered with the address given, so a lookup that arrives is plain to see.
import dgram from "node:dgram";
import packet from "dns-packet";

const [listen, answer] = process.argv.slice(2);
const socket = dgram.createSocket("udp4");
socket.on("message", (message, peer) => {
  try {
    const query = packet.decode(message);
    const answers = (query.questions ?? [])
      .filter((question) => question.type === "A")
      .map((question) => ({ type: "A", class: "IN", name: question.name, ttl: 5, data: answer }));
    const reply = packet.encode({
      id: query.id,
      type: "response",
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE,
      questions: query.questions,
      answers,
    });
    socket.send(reply, peer.port, peer.address);
  } catch {
    // not a DNS message
  }
});
socket.bind(53, listen, () => console.log(`dns responder on ${listen}:53`));
