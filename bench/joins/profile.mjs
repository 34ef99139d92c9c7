// Loaded with --import into each cluster process by `bench:joins --profile DIR` (node refuses
// --cpu-prof in NODE_OPTIONS): a V8 CPU profile, written to $PROFILE_DIR when the process exits.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.start');
process.on('exit', () => {
  // A session in the same thread answers synchronously: this runs before the process ends.
  session.post('Profiler.stop', (error, result) => {
    if (error) return;
    const name = `${process.argv[1]?.split('/').pop()}-${process.pid}.cpuprofile`;
    writeFileSync(`${process.env.PROFILE_DIR}/${name}`, JSON.stringify(result.profile));
  });
});
