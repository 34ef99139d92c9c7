import { cpus, hostname, loadavg } from 'node:os';

/** Host, CPU model, cores and load averages, for a results file. */
export const machine = () => ({
  host: hostname(),
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  load: loadavg().map((l) => l.toFixed(2)),
});
