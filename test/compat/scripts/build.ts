import type { Script } from '../script.ts';

const DOCKERFILE = `FROM busybox
WORKDIR /app
COPY package.json .
RUN echo installing && cat package.json > installed.txt
COPY . .
ENV GREETING=hello
CMD ["sh", "-c", "echo $GREETING from $(cat server.js)"]
`;

/**
 * Seed lessons: the "COPY package.json, RUN install, COPY ." pattern, rebuilt unchanged (all cached), after an
 * app change (cached up to the second COPY), after a dependency change, with --no-cache, and a failing RUN.
 */
export const build: Script = {
  name: 'build',
  covers: 'docker build -t, rebuild cache hits and misses, --no-cache, -q, -f, a failing RUN, docker image history of the result, docker run of the result',
  files: { Dockerfile: DOCKERFILE, 'package.json': '{"name":"app"}\n', 'server.js': 'v1\n', 'Failing.Dockerfile': 'FROM busybox\nRUN echo about to fail >&2 && exit 3\n' },
  steps: [
    { args: ['build', '-t', 'app', '.'] },
    { args: ['run', '--rm', 'app'] },
    { args: ['build', '-t', 'app', '.'] },
    { args: ['build', '-t', 'app', '.'], write: { 'server.js': 'v2\n' } },
    { args: ['run', '--rm', 'app'] },
    { args: ['build', '-t', 'app', '.'], write: { 'package.json': '{"name":"app","version":"2"}\n' } },
    { args: ['image', 'history', '--format', '{{.CreatedBy}} {{.Size}}', 'app'] },
    { args: ['build', '-q', '-t', 'app', '.'] },
    { args: ['build', '-f', 'Failing.Dockerfile', '.'] },
    { args: ['build', '--no-cache', '-t', 'app:nocache', '.'] },
  ],
};
