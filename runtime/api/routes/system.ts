import os from 'node:os';
import type { Engine } from '../../engine.ts';
import { API_VERSION, MIN_API_VERSION, sendJson } from '../http.ts';
import type { Router } from '../router.ts';

/** `_ping`, `version`, `info`: what every CLI invocation and `docker version`/`info` ask first. */
export function systemRoutes(router: Router, engine: Engine): void {
  router.on('GET', '/_ping', ({ req, res }) => {
    // No Builder-Version header: "2" would switch the CLI to BuildKit; absent means the classic builder.
    res.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
    res.setHeader('Pragma', 'no-cache');
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': req.method === 'HEAD' ? '0' : '2' });
    res.end(req.method === 'HEAD' ? undefined : 'OK');
  });

  router.on('GET', '/version', ({ res }) => {
    const details = {
      ApiVersion: API_VERSION,
      Arch: goArch(),
      BuildTime: '',
      Experimental: 'false',
      GitCommit: '',
      GoVersion: `node${process.versions.node}`,
      KernelVersion: os.release(),
      MinAPIVersion: MIN_API_VERSION,
      Os: 'linux',
    };
    sendJson(res, 200, {
      Platform: { Name: 'layerlab' },
      Components: [{ Name: 'Engine', Version: engine.options.version, Details: details }],
      Version: engine.options.version,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: '',
      GoVersion: details.GoVersion,
      Os: 'linux',
      Arch: details.Arch,
      KernelVersion: details.KernelVersion,
      BuildTime: '',
    });
  });

  router.on('GET', '/info', ({ res }) => {
    const images = engine.ns.imageIds().length;
    sendJson(res, 200, {
      ID: `layerlab-${engine.ns.name}`,
      Containers: 0,
      ContainersRunning: 0,
      ContainersPaused: 0,
      ContainersStopped: 0,
      Images: images,
      Driver: 'overlay2',
      DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true'], ['Native Overlay Diff', 'true']],
      Plugins: { Volume: ['local'], Network: ['bridge', 'null'], Authorization: null, Log: ['json-file'] },
      MemoryLimit: true,
      SwapLimit: false,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      PidsLimit: true,
      IPv4Forwarding: true,
      Debug: false,
      NFd: 0,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: '1',
      NEventsListener: 0,
      KernelVersion: os.release(),
      OperatingSystem: 'layerlab (Debian GNU/Linux 12 images)',
      OSVersion: '12',
      OSType: 'linux',
      Architecture: os.machine(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: null,
      NCPU: os.cpus().length,
      MemTotal: os.totalmem(),
      DockerRootDir: engine.options.stateDir,
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: os.hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: engine.options.version,
      Runtimes: { runc: { path: 'runc' } },
      DefaultRuntime: 'runc',
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: false,
      Isolation: '',
      InitBinary: '',
      ContainerdCommit: { ID: '', Expected: '' },
      RuncCommit: { ID: '', Expected: '' },
      InitCommit: { ID: '', Expected: '' },
      SecurityOptions: ['name=seccomp,profile=default'],
      Warnings: null,
    });
  });
}

/** Go's GOARCH names, which the CLI and image configs use. */
export function goArch(): string {
  const arch = os.arch();
  return arch === 'x64' ? 'amd64' : arch === 'ia32' ? '386' : arch;
}
