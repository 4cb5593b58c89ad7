// The official CometD NodeJS server for the stream tests and bench/stream.py.
// Usage: node cometd_server.mjs PORT
// stdout: {"event":"listening","port":N}, {"event":"subscribed","channel":C,"session":S},
//         {"event":"handshake","session":S}, {"event":"published","from":A,"to":B}
// stdin commands: "publish N" publishes N messages (seq numbers continue across calls) on
// /v2/me/outbound; "flood N" publishes N as fast as the event loop allows, in batches.
import http from "node:http";
import readline from "node:readline";
import cometdServerPackage from "cometd-nodejs-server";

const { createCometDServer } = cometdServerPackage;
const port = Number(process.argv[2] ?? 0);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const cometd = createCometDServer({ timeout: 30000, maxInterval: 10000, logLevel: process.env.COMETD_LOG_LEVEL || "info" });
cometd.addListener("sessionAdded", (session) => out({ event: "handshake", session: session.id }));
cometd.addListener("subscribed", (channel, session) =>
    out({ event: "subscribed", channel: channel.name, session: session.id }));

let seq = 0;
function publishOne() {
    seq += 1;
    // Look the channel up each time: the server sweeps channels that had no subscriber, and a
    // channel object kept from before would publish to nobody.
    cometd.createServerChannel("/v2/me/outbound").publish(null, {
        record: { devicePath: "/devices/d", callingList: "CallingList1", applicationId: 134,
                  campaignName: "Campaign1" },
        notificationType: "AddRecordAcknowledge", messageType: "OutboundRecordMessage",
        referenceId: `seq-${seq}`, seq,
    });
}

function flood(count, done) {
    let left = count;
    const step = () => {
        const batch = Math.min(left, 200);
        for (let i = 0; i < batch; i++) publishOne();
        left -= batch;
        if (left > 0) setImmediate(step); else done();
    };
    step();
}

// A minimal GWS start-up answer, so `outbound-console watch` can be pointed at this server.
function handle(req, res) {
    if (req.method === "GET" && req.url.startsWith("/api/v2/me")) {
        res.writeHead(200, { "Content-Type": "application/json", "X-CSRF-HEADER": "X-CSRF-TOKEN",
                             "X-CSRF-TOKEN": "bench", "Set-Cookie": "JSESSIONID=bench; Path=/" });
        res.end(JSON.stringify({ statusCode: 0, user: { userName: "bench", devices: [{ id: "d", path: "/devices/d" }],
                                                        features: ["api-voice-outbound"] } }));
        return;
    }
    cometd.handle(req, res);
}
const server = http.createServer(handle);
server.listen(port, "127.0.0.1", () => out({ event: "listening", port: server.address().port }));
readline.createInterface({ input: process.stdin }).on("line", (line) => {
    const [cmd, arg] = line.trim().split(/\s+/);
    const from = seq + 1;
    if (cmd === "publish") {
        for (let i = 0; i < Number(arg); i++) publishOne();
        out({ event: "published", from, to: seq });
    } else if (cmd === "flood") {
        flood(Number(arg), () => out({ event: "published", from, to: seq }));
    }
});
