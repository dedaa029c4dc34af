/**
 * Preloaded into a service (`NODE_OPTIONS=--require …/cpu-profile-preload.js`, since Node does not
 * allow --cpu-prof in NODE_OPTIONS): profiles the whole process with the in-process inspector
 * and writes `<BENCH_CPU_PROF_DIR>/<pid>-<service>.cpuprofile` at exit (the in-process session
 * answers synchronously, so this works inside the 'exit' handler).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { basename, dirname, join } from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  const service = basename(dirname(dirname(process.argv[1] ?? 'unknown')));
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `${process.pid}-${service}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
