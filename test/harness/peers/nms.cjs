// node-media-server as a loopback RTMP server for tests (a child process: it logs at debug level).
// Usage: node nms.cjs <rtmpPort> <httpPort> <dataDir>; prints NMS_READY when listening.
const NodeMediaServer = require('node-media-server');
const [rtmpPort, httpPort, dataDir] = process.argv.slice(2);
const nms = new NodeMediaServer(
  {
    bind: '127.0.0.1',
    store: { path: dataDir },
    auth: { play: false, publish: false, secret: '' },
    rtmp: { port: Number(rtmpPort) },
    http: { port: Number(httpPort) },
    webadmin: { enable: false },
    record: { auto: false, path: `${dataDir}/record` },
  },
  null,
);
nms.run().then(() => process.stdout.write('NMS_READY\n'));
const stop = async () => {
  await nms.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
