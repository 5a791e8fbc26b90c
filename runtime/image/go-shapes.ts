import type { ContainerConfig, HealthConfig } from './config.ts';

type Json = Record<string, unknown>;

/**
 * An image's container config as dockerd sends it: decoded into Go's container.Config and encoded again, so
 * every field appears in struct order with its zero value, except the `omitempty` ones. `null` stays null
 * (Docker inspects `Config: null` for an image without one).
 */
export function goContainerConfig(c: ContainerConfig | null | undefined): Json | null {
  if (!c) return null;
  const out: Json = {
    Hostname: c.Hostname ?? '',
    Domainname: c.Domainname ?? '',
    User: c.User ?? '',
    AttachStdin: c.AttachStdin ?? false,
    AttachStdout: c.AttachStdout ?? false,
    AttachStderr: c.AttachStderr ?? false,
  };
  putNonEmpty(out, 'ExposedPorts', c.ExposedPorts);
  Object.assign(out, { Tty: c.Tty ?? false, OpenStdin: c.OpenStdin ?? false, StdinOnce: c.StdinOnce ?? false, Env: c.Env ?? null, Cmd: c.Cmd ?? null });
  if (c.Healthcheck) out.Healthcheck = goHealthcheck(c.Healthcheck);
  if (c.ArgsEscaped) out.ArgsEscaped = true;
  Object.assign(out, { Image: c.Image ?? '', Volumes: c.Volumes ?? null, WorkingDir: c.WorkingDir ?? '', Entrypoint: c.Entrypoint ?? null });
  const extra = c as ContainerConfig & { NetworkDisabled?: boolean; MacAddress?: string; StopTimeout?: number };
  if (extra.NetworkDisabled) out.NetworkDisabled = true;
  if (extra.MacAddress) out.MacAddress = extra.MacAddress;
  Object.assign(out, { OnBuild: c.OnBuild ?? null, Labels: c.Labels ?? null });
  if (c.StopSignal) out.StopSignal = c.StopSignal;
  if (extra.StopTimeout !== undefined && extra.StopTimeout !== null) out.StopTimeout = extra.StopTimeout;
  if (c.Shell && c.Shell.length > 0) out.Shell = c.Shell;
  return out;
}

function goHealthcheck(h: HealthConfig): Json {
  const out: Json = {};
  if (h.Test && h.Test.length > 0) out.Test = h.Test;
  for (const key of ['Interval', 'Timeout', 'StartPeriod', 'Retries'] as const) if (h[key]) out[key] = h[key];
  return out;
}

function putNonEmpty(out: Json, key: string, value: Record<string, unknown> | null | undefined): void {
  if (value && Object.keys(value).length > 0) out[key] = value;
}
