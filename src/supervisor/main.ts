// kib-supervise: the main process of a VM's systemd user unit (see supervise.ts).
//   kib-supervise [--timeout=SECONDS] -- QEMU ARGS...
import { EXIT, supervise } from './supervise.ts';

supervise(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`kib-supervise: ${error.message}\n`);
    process.exit(EXIT.died);
  },
);
