/** How many instances of an app `pm2 jlist` reports online (its output may start with PM2's banner). */
export function pm2OnlineCount(jlistOutput: string, appName: string): number {
  // The JSON is the line that starts with "[" (a banner line may contain "[PM2]" too).
  const start = jlistOutput.search(/^\[[\[{\]]/m);
  let list: unknown;
  try {
    list = JSON.parse(jlistOutput.slice(Math.max(start, 0)));
  } catch {
    return 0;
  }
  if (!Array.isArray(list)) return 0;
  return list.filter((p: { name?: unknown; pm2_env?: { status?: unknown } }) => p?.name === appName && p.pm2_env?.status === 'online').length;
}
