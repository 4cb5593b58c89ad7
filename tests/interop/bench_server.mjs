// Yardstick for bench/sim.py: the official CometD NodeJS server doing the same fan-out as the
// simulator. POST /publish {referenceId, ...} publishes an AddRecordAcknowledge-shaped message
// on /v2/me/outbound; everything else is CometD (long-polling). Prints {"port": N} when ready.
import http from "node:http";
import cometdServerPackage from "cometd-nodejs-server";
const { createCometDServer } = cometdServerPackage;

const cometd = createCometDServer({ timeout: 30000, maxInterval: 10000 });

const server = http.createServer((req, res) => {
    if (req.method === "POST" && req.url === "/publish") {
        const chunks = [];
        req.on("data", (c) => chunks.push(c));
        req.on("end", () => {
            const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            res.writeHead(200, { "Content-Type": "application/json" });
            res.end('{"statusCode":0}');
            setImmediate(() => cometd.createServerChannel("/v2/me/outbound").publish(null, {
                record: { devicePath: body.devicePath, callingList: body.callingList,
                          applicationId: body.applicationId, campaignName: body.campaignName },
                notificationType: "AddRecordAcknowledge",
                messageType: "OutboundRecordMessage",
                referenceId: body.referenceId,
            }));
        });
        return;
    }
    cometd.handle(req, res);
});
server.listen(0, "127.0.0.1", () => {
    process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
