import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { FileView } from '../../src/attachments/file.schema.ts';
import type { Response } from './app.ts';

/** A multipart/form-data body with one file part (named `field`). */
export function multipartBody(
  filename: string,
  type: string,
  data: Buffer,
  field = 'file',
): { payload: Buffer; contentType: string } {
  const boundary = `----parley${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\n` +
      `Content-Type: ${type}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    payload: Buffer.concat([head, data, tail]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

/** Uploads `data` to the chat as the holder of `token`, through `app.inject`. */
export async function upload(
  app: FastifyInstance,
  token: string,
  chatId: string,
  data: Buffer,
  { name = 'file.bin', type = 'application/octet-stream' }: { name?: string; type?: string } = {},
): Promise<Response<FileView>> {
  const body = multipartBody(name, type, data);
  const res = await app.inject({
    method: 'POST',
    url: `/v1/chats/${chatId}/files`,
    headers: { authorization: `Bearer ${token}`, 'content-type': body.contentType },
    payload: body.payload,
  });
  const parsed: unknown = res.body ? JSON.parse(res.body) : null;
  return { status: res.statusCode, body: parsed as FileView, headers: res.headers };
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/** The start of a PNG of `width` × `height` (signature and IHDR), then `extra` random bytes. */
export function png(width: number, height: number, extra = 64): Buffer {
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    u32(13),
    Buffer.from('IHDR'),
    u32(width),
    u32(height),
    Buffer.from([8, 6, 0, 0, 0]),
    u32(0),
    randomBytes(extra),
  ]);
}

/** A JPEG with an APP0 segment, then a baseline frame header of `width` × `height`. */
export function jpeg(width: number, height: number): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, ...Buffer.from('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const sof = Buffer.alloc(19);
  sof.set([0xff, 0xc0, 0x00, 0x11, 8]);
  sof.writeUInt16BE(height, 5);
  sof.writeUInt16BE(width, 7);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof, randomBytes(32), Buffer.from([0xff, 0xd9])]);
}

export function gif(width: number, height: number): Buffer {
  const b = Buffer.alloc(32);
  b.write('GIF89a', 0, 'latin1');
  b.writeUInt16LE(width, 6);
  b.writeUInt16LE(height, 8);
  return b;
}

/** An extended WebP (VP8X) of `width` × `height`. */
export function webp(width: number, height: number): Buffer {
  const b = Buffer.alloc(40);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(32, 4);
  b.write('WEBPVP8X', 8, 'latin1');
  b.writeUInt32LE(10, 16);
  b.writeUIntLE(width - 1, 24, 3);
  b.writeUIntLE(height - 1, 27, 3);
  return b;
}
