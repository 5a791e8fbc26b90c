import { goJson, type ContainerConfig } from './config.ts';

/**
 * An image's container config as dockerd sends it (inspect, build configs): decoded into Go's
 * container.Config and encoded again, so every field appears in struct order with its zero value, except the
 * `omitempty` ones. `null` stays null (Docker inspects `Config: null` for an image without one).
 */
export function goContainerConfig(c: ContainerConfig | null | undefined): Record<string, unknown> | null {
  return c ? (JSON.parse(encodeGoContainerConfig(c)) as Record<string, unknown>) : null;
}

/** `json.Marshal(container.Config)` as moby 20.10 declares it (field order, omitempty, sorted map keys). */
export function encodeGoContainerConfig(c: ContainerConfig | undefined): string {
  const v = (c ?? {}) as Record<string, unknown>;
  const parts: string[] = [];
  const put = (key: string, raw: string | undefined) => {
    if (raw !== undefined) parts.push(`${goJson(key)}:${raw}`);
  };
  const s = (key: string) => goJson(typeof v[key] === 'string' ? v[key] : '');
  const b = (key: string) => String(v[key] === true);
  const list = (key: string) => (Array.isArray(v[key]) ? goJson((v[key] as unknown[]).map(String)) : 'null');
  const set = (key: string) => goMap(v[key], () => '{}');
  put('Hostname', s('Hostname'));
  put('Domainname', s('Domainname'));
  put('User', s('User'));
  put('AttachStdin', b('AttachStdin'));
  put('AttachStdout', b('AttachStdout'));
  put('AttachStderr', b('AttachStderr'));
  put('ExposedPorts', isEmptyMap(v.ExposedPorts) ? undefined : set('ExposedPorts'));
  put('Tty', b('Tty'));
  put('OpenStdin', b('OpenStdin'));
  put('StdinOnce', b('StdinOnce'));
  put('Env', list('Env'));
  put('Cmd', list('Cmd'));
  put('Healthcheck', v.Healthcheck ? goHealth(v.Healthcheck as Record<string, unknown>) : undefined);
  put('ArgsEscaped', v.ArgsEscaped === true ? 'true' : undefined);
  put('Image', s('Image'));
  put('Volumes', set('Volumes'));
  put('WorkingDir', s('WorkingDir'));
  put('Entrypoint', list('Entrypoint'));
  put('NetworkDisabled', v.NetworkDisabled === true ? 'true' : undefined);
  put('MacAddress', typeof v.MacAddress === 'string' && v.MacAddress !== '' ? goJson(v.MacAddress) : undefined);
  put('OnBuild', list('OnBuild'));
  put('Labels', goMap(v.Labels, (x) => goJson(String(x))));
  put('StopSignal', typeof v.StopSignal === 'string' && v.StopSignal !== '' ? goJson(v.StopSignal) : undefined);
  put('StopTimeout', typeof v.StopTimeout === 'number' ? String(v.StopTimeout) : undefined);
  put('Shell', Array.isArray(v.Shell) && v.Shell.length > 0 ? goJson(v.Shell.map(String)) : undefined);
  return `{${parts.join(',')}}`;
}

function goHealth(h: Record<string, unknown>): string {
  const parts: string[] = [];
  if (Array.isArray(h.Test) && h.Test.length > 0) parts.push(`"Test":${goJson(h.Test.map(String))}`);
  for (const key of ['Interval', 'Timeout', 'StartPeriod', 'Retries']) {
    if (typeof h[key] === 'number' && h[key] !== 0) parts.push(`"${key}":${String(h[key])}`);
  }
  return `{${parts.join(',')}}`;
}

/** A Go map: `null` when absent, keys sorted bytewise. */
function goMap(value: unknown, encode: (v: unknown) => string): string {
  if (typeof value !== 'object' || value === null) return 'null';
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${goJson(k)}:${encode(x)}`).join(',')}}`;
}

function isEmptyMap(value: unknown): boolean {
  return typeof value !== 'object' || value === null || Object.keys(value).length === 0;
}
