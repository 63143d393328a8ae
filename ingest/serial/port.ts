/**
 * Port settings shared by the source, the writer and the recorder, the `serial:` target syntax, and
 * opening / writing / closing a `SerialPort` (serialport 13) as promises.
 */
import { SerialPort } from 'serialport';
import { LidarError } from '../../processing/errors.js';

export type SerialParity = 'none' | 'even' | 'odd' | 'mark' | 'space';

export interface SerialPortSettings {
  /** Device path: /dev/ttyUSB0, /dev/serial/by-id/..., a pty link. */
  path: string;
  /** Default 115200 (ARCHITECTURE.md "Transports": 115200 8N1). */
  baudRate?: number;
  /** Default 8. */
  dataBits?: 5 | 6 | 7 | 8;
  /** Default 'none'. */
  parity?: SerialParity;
  /** Default 1. */
  stopBits?: 1 | 1.5 | 2;
}

export const SERIAL_DEFAULTS = { baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 } as const;

const PARITIES: readonly SerialParity[] = ['none', 'even', 'odd', 'mark', 'space'];

/** Checks the settings; throws `LIDAR_ERR_BAD_VALUE` naming the bad one. */
export function validateSerialSettings(s: SerialPortSettings): Required<SerialPortSettings> {
  const full = {
    path: s.path,
    baudRate: s.baudRate ?? SERIAL_DEFAULTS.baudRate,
    dataBits: s.dataBits ?? SERIAL_DEFAULTS.dataBits,
    parity: s.parity ?? SERIAL_DEFAULTS.parity,
    stopBits: s.stopBits ?? SERIAL_DEFAULTS.stopBits,
  };
  if (typeof full.path !== 'string' || full.path.length === 0) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `serial port path must be a non-empty string, got ${JSON.stringify(full.path)}`, { field: 'path' });
  }
  if (!Number.isSafeInteger(full.baudRate) || full.baudRate <= 0) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `baud rate must be a positive integer, got ${full.baudRate}`, { field: 'baudRate' });
  }
  if (![5, 6, 7, 8].includes(full.dataBits)) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `data bits must be 5, 6, 7 or 8, got ${full.dataBits}`, { field: 'dataBits' });
  }
  if (!PARITIES.includes(full.parity)) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `parity must be one of ${PARITIES.join(', ')}, got ${full.parity}`, { field: 'parity' });
  }
  if (![1, 1.5, 2].includes(full.stopBits)) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `stop bits must be 1, 1.5 or 2, got ${full.stopBits}`, { field: 'stopBits' });
  }
  return full;
}

/**
 * Parses `serial:/dev/ttyUSB0?baud=115200&bits=8&parity=none&stop=1` (every query key optional; also
 * `baudRate`, `dataBits`, `stopBits`). Throws `LIDAR_ERR_USAGE` naming the bad part.
 */
export function parseSerialTarget(target: string): Required<SerialPortSettings> {
  if (!target.startsWith('serial:')) {
    throw new LidarError('LIDAR_ERR_USAGE', `serial target must start with "serial:", got ${JSON.stringify(target)}`);
  }
  const rest = target.slice('serial:'.length);
  const q = rest.indexOf('?');
  const path = q < 0 ? rest : rest.slice(0, q);
  const settings: SerialPortSettings = { path };
  if (q >= 0) {
    for (const [key, value] of new URLSearchParams(rest.slice(q + 1))) {
      const num = Number(value);
      switch (key) {
        case 'baud':
        case 'baudRate':
          settings.baudRate = num;
          break;
        case 'bits':
        case 'dataBits':
          settings.dataBits = num as SerialPortSettings['dataBits'];
          break;
        case 'parity':
          settings.parity = value as SerialParity;
          break;
        case 'stop':
        case 'stopBits':
          settings.stopBits = num as SerialPortSettings['stopBits'];
          break;
        default:
          throw new LidarError('LIDAR_ERR_USAGE', `unknown serial option "${key}" in ${target} (known: baud, bits, parity, stop)`);
      }
    }
  }
  try {
    return validateSerialSettings(settings);
  } catch (e) {
    if (e instanceof LidarError) throw new LidarError('LIDAR_ERR_USAGE', `${e.message} in ${target}`, { field: e.field });
    throw e;
  }
}

/** Opens a port (exclusive lock); rejects with `LIDAR_ERR_IO` naming the path. */
export function openSerialPort(settings: SerialPortSettings): Promise<SerialPort> {
  const s = validateSerialSettings(settings);
  return new Promise((resolve, reject) => {
    const port = new SerialPort({
      path: s.path,
      baudRate: s.baudRate,
      dataBits: s.dataBits,
      parity: s.parity,
      stopBits: s.stopBits,
      autoOpen: false,
    });
    port.open((err) => {
      if (err) reject(new LidarError('LIDAR_ERR_IO', `cannot open serial port: ${err.message}`, { file: s.path }));
      else resolve(port);
    });
  });
}

/** Writes and waits until the bytes left the process (write callback, then tcdrain). */
export function writeAndDrain(port: SerialPort, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (err) => {
      if (err) return reject(new LidarError('LIDAR_ERR_IO', `serial write failed: ${err.message}`, { file: port.path }));
      port.drain((err2) => {
        if (err2) reject(new LidarError('LIDAR_ERR_IO', `serial drain failed: ${err2.message}`, { file: port.path }));
        else resolve();
      });
    });
  });
}

/** Closes the port if open; never rejects (a port that vanished is closed already). */
export function closeSerialPort(port: SerialPort): Promise<void> {
  return new Promise((resolve) => {
    if (!port.isOpen) return resolve();
    port.close(() => resolve());
  });
}
