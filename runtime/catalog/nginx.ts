import { promises as fs } from 'node:fs';
import path from 'node:path';
import { buildDebianLayer, replaceFile, replaceWithSymlink } from './debian-layer.ts';
import { debianSlimRecipe } from './debian.ts';
import type { ImageRecipe, ImageSpec } from './recipe.ts';

/** The server block learners expect from the official image: static files from the html directory on port 80. */
const DEFAULT_CONF = `# The default site of layerlab's nginx image, as in the official image: files under
# /usr/share/nginx/html on port 80. Mount your own over it: docker run -v "$(pwd)":/usr/share/nginx/html nginx
server {
    listen       80;
    listen  [::]:80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
`;

/** Our own welcome page, titled as the official one so lessons can look for "Welcome to nginx!". */
export const NGINX_WELCOME_PAGE = `<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Welcome to nginx!</title>
<style>
  body { max-width: 40em; margin: 3em auto; font-family: sans-serif; line-height: 1.5; }
  code { background: #eee; padding: 0 .2em; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>This page comes from the <code>nginx</code> image of your layerlab sandbox: Debian's nginx package
on top of <code>debian:bookworm-slim</code>. If you can read it, the web server in your container is running
and the port you published reaches it.</p>
<p>The page lives at <code>/usr/share/nginx/html/index.html</code> inside the container. Replace it with
your own files, for example with <code>docker run -v "$(pwd)":/usr/share/nginx/html -p 8080:80 nginx</code>,
or with a Dockerfile that copies them there.</p>
<p>Requests are logged to the container's output: see them with <code>docker logs</code>.</p>
</body>
</html>
`;

const ERROR_PAGE = `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Error</title></head>
<body>
<h1>An error occurred.</h1>
<p>The page you are looking for is currently unavailable. Try again later; <code>docker logs</code> on the
server's container says more.</p>
</body>
</html>
`;

/**
 * nginx:latest (also nginx:1.22 and nginx:bookworm): debian:bookworm-slim plus Debian's nginx 1.22 package,
 * set up like Docker's official image: a conf.d/default.conf serving /usr/share/nginx/html on port 80, logs
 * to the container's stdout and stderr, nginx in the foreground, stopped gracefully by SIGQUIT.
 */
export const nginxRecipe: ImageRecipe = {
  refs: ['nginx:latest', 'nginx:1.22', 'nginx:bookworm'],
  description: "nginx 1.22 web server from Debian's nginx package on debian:bookworm-slim, set up like the official image",
  version: 'nginx/1',
  base: debianSlimRecipe,
  async build(work, log, base): Promise<ImageSpec> {
    const made = await buildDebianLayer(work, log, base, { packages: ['nginx'], customize: setUpNginx });
    return { ...made, cmd: ['nginx', '-g', 'daemon off;'], exposedPorts: ['80/tcp'], stopSignal: 'SIGQUIT' };
  },
};

async function setUpNginx(rootfs: string): Promise<string> {
  // Debian's own default site serves /var/www/html on port 80 too; conf.d/default.conf takes its place.
  await fs.rm(path.join(rootfs, 'etc/nginx/sites-enabled/default'), { force: true });
  await replaceFile(rootfs, 'etc/nginx/conf.d/default.conf', DEFAULT_CONF);
  await replaceFile(rootfs, 'usr/share/nginx/html/index.html', NGINX_WELCOME_PAGE);
  await replaceFile(rootfs, 'usr/share/nginx/html/50x.html', ERROR_PAGE);
  await replaceWithSymlink(rootfs, 'var/log/nginx/access.log', '/dev/stdout');
  await replaceWithSymlink(rootfs, 'var/log/nginx/error.log', '/dev/stderr');
  return 'sites-enabled/default removed, conf.d/default.conf and a welcome page in /usr/share/nginx/html written, logs linked to /dev/stdout and /dev/stderr';
}
