// The official CometD JavaScript client (cometd + cometd-nodejs-client), driven by the tests.
// Usage: node js_client.mjs URL USER CHANNEL...   (password in env GWS_PASSWORD)
// Prints one JSON object per line: handshake / subscribe / connect / message / disconnect.
// Reads commands on stdin: "disconnect".
import { adapt } from "cometd-nodejs-client";
import { CometD } from "cometd";
import readline from "node:readline";

adapt();
const [url, user, ...channels] = process.argv.slice(2);
const password = process.env.GWS_PASSWORD ?? "";
const auth = "Basic " + Buffer.from(`${user}:${password}`).toString("base64");
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const cometd = new CometD();
// GWS 8.5 offers long-polling only, as its documentation tells JavaScript clients.
cometd.unregisterTransport("websocket");
cometd.configure({
    url: url + "/api/v2/notifications",
    requestHeaders: { Authorization: auth },
    logLevel: "warn",
    maxBackoff: 2000,
});
let lastConnect = null;
cometd.addListener("/meta/handshake", (m) => {
    out({ event: "handshake", successful: m.successful, clientId: m.clientId ?? null, error: m.error ?? null });
    if (m.successful) {
        // Subscriptions are lost on re-handshake: the library clears them, we add them once.
        cometd.batch(() => {
            for (const channel of channels) {
                cometd.subscribe(channel, (msg) => out({ event: "message", channel: msg.channel, data: msg.data }));
            }
        });
    }
});
cometd.addListener("/meta/subscribe", (m) => out({ event: "subscribe", successful: m.successful, subscription: m.subscription, error: m.error ?? null }));
cometd.addListener("/meta/connect", (m) => {
    // Report changes only: a long-poll answers every 30 s or per event.
    const state = m.successful ? "ok" : (m.error ?? "failed");
    if (state !== lastConnect) {
        out({ event: "connect", successful: m.successful, error: m.error ?? null });
        lastConnect = state;
    }
});
cometd.addListener("/meta/unsuccessful", (m) => out({ event: "unsuccessful", channel: m.channel ?? null, error: m.error ?? null, failure: String(m.failure?.reason ?? m.failure?.exception ?? "") , status: m.failure?.httpCode ?? null }));
cometd.handshake();

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
    if (line.trim() === "disconnect") {
        cometd.disconnect(() => { out({ event: "disconnect" }); process.exit(0); });
    }
});
