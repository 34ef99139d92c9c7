/** A Prometheus text exposition, each metric summed over its label sets (nodes, workers). */
export function sumMetrics(text: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{.*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[2]);
    if (Number.isFinite(value)) sums.set(match[1]!, (sums.get(match[1]!) ?? 0) + value);
  }
  return sums;
}

/** What the server says about itself, from `/metrics`. */
export interface ServerFigures {
  participants: number;
  producers: number;
  consumers: number;
  /** Media RTP only, as the clients count it (the server's bitrate_in/out_bps include RTCP and probes). */
  rtpInBps: number;
  rtpOutBps: number;
  lossRatio: number;
  /** mediasoup workers' CPU since the previous scrape, in cores. */
  workerCores: number;
  /** The server process's CPU seconds so far (a counter: the window's share comes from two reads). */
  processCpuSeconds: number;
}

export async function scrapeServer(url: string): Promise<ServerFigures> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const m = sumMetrics(await response.text());
  const get = (name: string) => m.get(`tessera_${name}`) ?? 0;
  return {
    participants: get('participants'),
    producers: get('producers'),
    consumers: get('consumers'),
    rtpInBps: get('rtp_bitrate_in_bps'),
    rtpOutBps: get('rtp_bitrate_out_bps'),
    lossRatio: get('packet_loss_ratio'),
    workerCores: get('worker_cpu_ratio'),
    processCpuSeconds: get('process_process_cpu_seconds_total'),
  };
}
