/** The sum of a metric's samples (all label sets) in Prometheus' text exposition; 0 when absent. */
export function metricValue(text: string, name: string, labels?: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match?.[1] === name && (!labels || match[2]?.includes(labels))) sum += Number(match[3]);
  }
  return sum;
}

/** Scrapes `/metrics` at `baseUrl`. */
export async function scrapeMetrics(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}
