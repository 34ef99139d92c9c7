// Connection quality from WebRTC statistics: loss and round-trip time between two samples.

export type QualityLevel = 'good' | 'fair' | 'poor';

/** The counters one sample of a receiving (or sending) path holds. */
export interface PathSample {
  packetsReceived: number;
  packetsLost: number;
  /** The selected candidate pair's current round-trip time, seconds. */
  rttSeconds?: number;
}

/**
 * Levels as video calls feel them: loss above 2 % or 300 ms RTT shows; above 8 % or 600 ms hurts.
 * Nothing received is no loss (a muted stream sends nothing).
 */
export function qualityOf(before: PathSample | undefined, now: PathSample): QualityLevel {
  const received = now.packetsReceived - (before?.packetsReceived ?? 0);
  const lost = Math.max(0, now.packetsLost - (before?.packetsLost ?? 0));
  const loss = received + lost > 0 ? lost / (received + lost) : 0;
  const rttMs = (now.rttSeconds ?? 0) * 1000;
  if (loss > 0.08 || rttMs > 600) return 'poor';
  if (loss > 0.02 || rttMs > 300) return 'fair';
  return 'good';
}

/** Sums the inbound RTP counters of a stats report, and takes its selected pair's RTT. */
export function sampleOf(report: RTCStatsReport): PathSample {
  const sample: PathSample = { packetsReceived: 0, packetsLost: 0 };
  report.forEach((s: Record<string, unknown>) => {
    if (s.type === 'inbound-rtp') {
      sample.packetsReceived += Number(s.packetsReceived ?? 0);
      sample.packetsLost += Number(s.packetsLost ?? 0);
    } else if (s.type === 'candidate-pair' && s.nominated && typeof s.currentRoundTripTime === 'number')
      sample.rttSeconds = s.currentRoundTripTime;
  });
  return sample;
}
