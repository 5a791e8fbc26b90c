import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { NetworkManager } from '../../runtime/network/index.ts';

/**
 * Run by network-standalone.test.ts inside `unshare --net`: the engine's host netns is this process's own
 * (hostNetns undefined, as for the standalone engine), yet the machine's netns is never touched.
 * Prints one JSON line of observations.
 */
function connect(port: number): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const c = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => resolve('ERR:timeout'), 2000);
    c.on('data', (d) => (out += d));
    c.on('end', () => (clearTimeout(timer), resolve(out.trim())));
    c.on('error', (e: NodeJS.ErrnoException) => (clearTimeout(timer), resolve(`ERR:${e.code}`)));
  });
}

const [stateDir] = process.argv.slice(2);
// A fresh netns starts with loopback down; a machine's is up.
spawnSync('ip', ['link', 'set', 'lo', 'up']);
const m = await NetworkManager.open({ stateDir: stateDir! });
const id = randomBytes(32).toString('hex');
const { netnsPath } = await m.setupContainer(id, { name: 'web', hostname: 'web' });
const ep = await m.attach(id, 'bridge');
const [bound] = await m.publishPorts(id, [{ proto: 'tcp', containerPort: 80, hostIp: '', hostPortMin: 0, hostPortMax: 0 }]);
const script = "require('net').createServer((c) => c.end('web:' + c.remoteAddress)).listen(80, '0.0.0.0', () => console.log('up'))";
const server = spawn('nsenter', [`--net=${netnsPath}`, '--', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve) => server.stdout!.once('data', resolve));
const published = await connect(bound!.hostPort);
server.kill('SIGKILL');
await m.teardownContainer(id);
const after = await connect(bound!.hostPort);
await m.shutdown();
const rules = spawnSync('iptables-nft-save', [], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes('LL-'));
const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l && !l.includes(': lo:'));
console.log(JSON.stringify({ ip: ep.IPAddress, hostPort: bound!.hostPort, published, after, leftover: [...rules, ...links] }));
