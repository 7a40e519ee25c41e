import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { clientFor, createTestApp, ENGINE, inject, type TestApp } from './support/app.ts';
import { multipart, postForm, urlencoded } from './support/drf.ts';

/** What the DRF chat API answers (Django REST framework's shapes), as these tests read them. */
interface DrfUser {
  id: number;
  username: string;
  first_name: string;
  last_name: string;
  email: string;
  profile: { id: number; status: string; status_msg: string | null; user: number };
}
interface DrfRoom {
  id: number;
  room_name: string;
  room_member?: { username: string }[];
}
/** The chat views' envelope: `{status, message, data}`. */
interface Envelope<T> {
  status: number;
  message: string;
  data: T;
}
/** A refusal of the chat routes: `{status, msg}`. */
interface DrfFailure {
  status: number;
  msg: string;
}
/** A serializer's refusal: the messages per field (nested for `profile`). */
type DrfFieldErrors = Record<string, string[] | Record<string, string[]>>;
interface DrfSender {
  id: number;
  username: string;
  chat_room: { user: { username: string } }[];
}
interface DrfMessage {
  id: string;
  text: string;
  msg_from: DrfSender;
  room: number;
  sent_at: string;
}
interface DrfTaskState {
  state: string;
  result: (Omit<DrfMessage, 'room'> & { room: DrfRoom }) | string;
}
type RoomWithMessages = DrfRoom & { messages: DrfMessage[] };

describe('DRF dialect', () => {
  let t: TestApp;
  const req = <T = unknown>(method: string, url: string, body?: unknown) => t.request<T>(method, url, body);
  const addUser = async (username: string, extra: Record<string, unknown> = {}): Promise<DrfUser> => {
    const res = await req<DrfUser>('POST', '/users/', {
      username,
      password: 'secret',
      profile: {},
      ...extra,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  };
  const addRoom = async (room_name: string, usernames: string[]): Promise<DrfRoom> => {
    const res = await req<Envelope<DrfRoom>>('POST', '/chat/chatroom/', {
      room_name,
      room_member: usernames.map((username) => ({ username })),
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data;
  };
  const send = async (url: string, body: unknown): Promise<string> => {
    const res = await req<Envelope<string>>('POST', url, body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(Object.keys(res.body), ['status', 'message', 'data']);
    return res.body.data;
  };
  const taskState = async (taskId: string): Promise<DrfTaskState> => {
    const res = await req<DrfTaskState>('GET', `/chat/task_state/${taskId}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };

  before(async () => {
    t = await createTestApp({ DIALECTS: 'avito,drf' });
  });
  after(async () => {
    await t.close();
  });

  describe('users', () => {
    it('creates a user with a profile and an integer pk, fields in the serializer order (201)', async () => {
      const user = await addUser('jbl_alice', {
        profile: { status: 'Online', status_msg: 'around' },
        first_name: 'Mary Ann',
        last_name: 'Evans Cross',
        email: 'mary@example.com',
      });
      assert.deepEqual(Object.keys(user), [
        'id',
        'profile',
        'last_login',
        'is_superuser',
        'username',
        'first_name',
        'last_name',
        'email',
        'is_staff',
        'is_active',
        'date_joined',
      ]);
      assert.equal(typeof user.id, 'number');
      assert.deepEqual(user.profile, { id: user.id, status: 'Online', status_msg: 'around', user: user.id });
      // Names and e-mail as given, not re-split.
      assert.equal(user.first_name, 'Mary Ann');
      assert.equal(user.last_name, 'Evans Cross');
      assert.equal(user.email, 'mary@example.com');
      assert.deepEqual((await req<DrfUser>('GET', `/users/${user.id}/`)).body, user);
      const next = await addUser('jbl_alice2');
      assert.equal(next.id, user.id + 1);
      assert.equal(next.profile.status, 'Offline');
      assert.equal(next.profile.status_msg, null);
      assert.equal(next.first_name, '');
      assert.equal(next.email, '');
    });

    it('stores the original README\'s example as given: status_msg 5 is the text "5"', async () => {
      const res = await req<DrfUser>('POST', '/users/', {
        profile: { status: 'Online', status_msg: 5 },
        username: 'My_firt_chat_user',
        password: 'Password!',
        first_name: '',
        last_name: '',
        email: '',
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.profile.status_msg, '5');
      assert.equal(res.body.profile.status, 'Online');
    });

    it('maps the profile and names onto the Parley user (native view in the drf tenant)', async () => {
      const user = await addUser('jbl_busy', {
        profile: { status: 'Busy', status_msg: 'in a meeting' },
        first_name: 'Ann',
        last_name: 'Lee',
      });
      const me = clientFor(t.app, String(user.id), await t.token(String(user.id), { tenant: 'drf' }));
      const view = await me.get('/v1/me');
      assert.equal(view.status, 200);
      assert.equal(view.body.username, 'jbl_busy');
      assert.equal(view.body.displayName, 'Ann Lee');
      assert.equal(view.body.status, 'busy');
      assert.equal(view.body.statusText, 'in a meeting');
    });

    it('answers the serializer field errors, all at once, in its shapes (400)', async () => {
      const cases: [unknown, DrfFieldErrors][] = [
        [
          {},
          {
            profile: ['This field is required.'],
            password: ['This field is required.'],
            username: ['This field is required.'],
          },
        ],
        [{ username: 'np_a', profile: {} }, { password: ['This field is required.'] }],
        [{ username: 'np_b', password: 'x' }, { profile: ['This field is required.'] }],
        [{ username: 'np_c', password: 'x', profile: null }, { profile: ['This field may not be null.'] }],
        [
          { username: 'np_d', password: 'x', profile: 'Online' },
          { profile: { non_field_errors: ['Invalid data. Expected a dictionary, but got str.'] } },
        ],
        [
          { username: 'np_e', password: 'x', profile: { status: 'Away', status_msg: true } },
          { profile: { status: ['"Away" is not a valid choice.'], status_msg: ['Not a valid string.'] } },
        ],
        [
          { username: 'np_f', password: 'x', profile: { status_msg: 'x'.repeat(256) } },
          { profile: { status_msg: ['Ensure this field has no more than 255 characters.'] } },
        ],
        [{ username: 'np_g', password: '  ', profile: {} }, { password: ['This field may not be blank.'] }],
        [
          { username: 'bad name!', password: 'x', profile: {} },
          {
            username: [
              'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.',
            ],
          },
        ],
        [{ username: '', password: 'x', profile: {} }, { username: ['This field may not be blank.'] }],
        [
          { username: 'np_h', password: 'x', profile: {}, email: 'nope' },
          { email: ['Enter a valid email address.'] },
        ],
        [
          { username: 'np_i', password: 'x', profile: {}, first_name: 'x'.repeat(151), is_staff: 'maybe' },
          {
            first_name: ['Ensure this field has no more than 150 characters.'],
            is_staff: ['Must be a valid boolean.'],
          },
        ],
        [
          ['not', 'an', 'object'],
          { non_field_errors: ['Invalid data. Expected a dictionary, but got list.'] },
        ],
      ];
      for (const [body, errors] of cases) {
        const res = await req<DrfFieldErrors>('POST', '/users/', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.deepEqual(res.body, errors, JSON.stringify(body));
        assert.deepEqual(Object.keys(res.body), Object.keys(errors), 'in the serializer field order');
      }
      await addUser('jbl_taken');
      const taken = await req<DrfFieldErrors>('POST', '/users/', {
        username: 'jbl_taken',
        password: 'x',
        profile: {},
      });
      assert.equal(taken.status, 400);
      assert.deepEqual(taken.body, { username: ['A user with that username already exists.'] });
      const users = (await req<DrfUser[]>('GET', '/users/')).body.map((u) => u.username);
      assert.equal(users.filter((u) => u.startsWith('np_')).length, 0, 'nothing refused was stored');
    });

    it('reads forms and multipart bodies as DRF does (profile.status); unreadable bodies are DRF errors', async () => {
      const form = urlencoded({
        username: 'form_user',
        password: 'pw',
        'profile.status': 'Busy',
        'profile.status_msg': 'via a form',
        first_name: 'Jo',
      });
      const viaForm = await t.request<DrfUser>('POST', '/users/', form.body, { 'content-type': form.type });
      assert.equal(viaForm.status, 201, JSON.stringify(viaForm.body));
      assert.deepEqual(viaForm.body.profile.status, 'Busy');
      assert.deepEqual(viaForm.body.profile.status_msg, 'via a form');
      assert.equal(viaForm.body.first_name, 'Jo');
      const viaMultipart = await postForm<DrfUser>(t, 'POST', '/users/', {
        username: 'multi_user',
        password: 'pw',
        'profile.status': 'Online',
      });
      assert.equal(viaMultipart.status, 201, JSON.stringify(viaMultipart.body));
      assert.equal(viaMultipart.body.profile.status, 'Online');
      const noProfile = await postForm<DrfFieldErrors>(t, 'POST', '/users/', {
        username: 'multi_2',
        password: 'pw',
      });
      assert.equal(noProfile.status, 400);
      assert.deepEqual(noProfile.body, { profile: ['This field is required.'] });

      const broken = await t.request<{ detail: string }>('POST', '/users/', '{"username": ', {
        'content-type': 'application/json',
      });
      assert.equal(broken.status, 400);
      assert.match(broken.body.detail, /^JSON parse error - /);
      const text = await t.request<{ detail: string }>('POST', '/users/', 'hello', {
        'content-type': 'text/plain',
      });
      assert.equal(text.status, 415);
      assert.equal(text.body.detail, 'Unsupported media type "text/plain" in request.');
      const badMultipart = await t.request<{ detail: string }>('POST', '/users/', 'no parts here', {
        'content-type': 'multipart/form-data; boundary=xyz',
      });
      assert.equal(badMultipart.status, 400);
      assert.match(badMultipart.body.detail, /^Multipart form parse error - /);
      const huge = urlencoded({ username: 'huge', password: 'x', 'profile.status': 'x'.repeat(1024 * 1024) });
      const tooLarge = await t.request<{ detail: string }>('POST', '/users/', huge.body, {
        'content-type': huge.type,
      });
      assert.equal(tooLarge.status, 413);
      assert.deepEqual(tooLarge.body, { detail: 'Request body is too large.' });
      const fields: Record<string, string> = {};
      for (let i = 0; i < 100; i++) {
        fields[`f${i}`] = 'x';
      }
      const tooMany = await postForm<{ detail: string }>(t, 'POST', '/users/', fields);
      assert.equal(tooMany.status, 413);
      assert.match(tooMany.body.detail, /^Multipart form parse error - /);
    });

    it('lists users by pk and filters them exactly; unreadable filters are 400', async () => {
      const a = await addUser('jbl_f1', {
        profile: { status: 'Online' },
        first_name: 'Fil',
        last_name: 'de La',
      });
      const b = await addUser('jbl_f2', { profile: { status: 'Busy' } });
      const all = await req<DrfUser[]>('GET', '/users/');
      assert.equal(all.status, 200);
      const ids = all.body.map((u) => u.id);
      assert.deepEqual(
        ids,
        [...ids].sort((x: number, y: number) => x - y),
      );
      assert.ok(ids.includes(a.id) && ids.includes(b.id));
      const pick = async (query: string) =>
        (await req<DrfUser[]>('GET', `/users/?${query}`)).body.map((u) => u.id);
      assert.deepEqual(await pick('username=jbl_f2'), [b.id]);
      assert.deepEqual(await pick(`id=${a.id}`), [a.id]);
      assert.deepEqual(await pick('first_name=Fil'), [a.id]);
      assert.deepEqual(await pick('last_name=de%20La'), [a.id]);
      assert.ok((await pick('profile__status=Busy')).includes(b.id));
      assert.ok(!(await pick('profile__status=Busy')).includes(a.id));
      assert.equal((await pick('username=')).length, all.body.length, 'an empty value does not filter');
      const badId = await req<DrfFieldErrors>('GET', '/users/?id=abc');
      assert.equal(badId.status, 400);
      assert.deepEqual(badId.body, { id: ['Enter a number.'] });
      const badStatus = await req<DrfFieldErrors>('GET', '/users/?profile__status=Away');
      assert.equal(badStatus.status, 400);
      assert.deepEqual(badStatus.body, {
        profile__status: ['Select a valid choice. Away is not one of the available choices.'],
      });
    });

    it('updates users (PUT needs the whole user, PATCH a part) and 404s unknown ones', async () => {
      const user = await addUser('jbl_upd', { first_name: 'Old', email: 'old@example.com' });
      const patched = await req<DrfUser>('PATCH', `/users/${user.id}/`, {
        profile: { status: 'Busy', status_msg: 'coding' },
        last_name: 'Van Name',
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(patched.body.profile.status, 'Busy');
      assert.equal(patched.body.profile.status_msg, 'coding');
      assert.equal(patched.body.first_name, 'Old');
      assert.equal(patched.body.last_name, 'Van Name');
      assert.equal(patched.body.email, 'old@example.com');
      const put = await req<DrfUser>('PUT', `/users/${user.id}/`, {
        username: 'jbl_upd',
        password: 'new',
        first_name: 'New One',
        email: 'new@example.com',
        profile: { status: 'Online' },
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.first_name, 'New One');
      assert.equal(put.body.last_name, 'Van Name');
      assert.equal(put.body.email, 'new@example.com');
      assert.equal(put.body.profile.status, 'Online');
      assert.deepEqual((await req<DrfUser>('GET', `/users/${user.id}/`)).body, put.body);
      const putMissing = await req<DrfFieldErrors>('PUT', `/users/${user.id}/`, { first_name: 'x' });
      assert.equal(putMissing.status, 400);
      assert.deepEqual(putMissing.body, {
        profile: ['This field is required.'],
        password: ['This field is required.'],
        username: ['This field is required.'],
      });
      const multi = multipart({ 'profile.status': 'Offline' });
      const patchForm = await t.request<DrfUser>('PATCH', `/users/${user.id}/`, multi.body, {
        'content-type': multi.type,
      });
      assert.equal(patchForm.status, 200, JSON.stringify(patchForm.body));
      assert.equal(patchForm.body.profile.status, 'Offline');
      const rename = await req<DrfFieldErrors>('PATCH', `/users/${user.id}/`, { username: 'other_name' });
      assert.equal(rename.status, 400);
      assert.ok(Array.isArray(rename.body.username));
      const missing = await req<{ detail: string }>('GET', '/users/999999/');
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body, { detail: 'Not found.' });
      assert.equal((await req('PATCH', '/users/999999/', { first_name: 'x' })).status, 404);
    });

    it('deletes a user (DELETE /users/<pk>/ → 204): gone from the users, out of its rooms, its messages kept', async () => {
      const keep = await addUser('del_keep');
      const gone = await addUser('del_gone', { first_name: 'Gone', last_name: 'User' });
      const room = await addRoom('del_room', ['del_keep', 'del_gone']);
      assert.equal(
        (await taskState(await send(`/chat/group/${room.id}/`, { from: gone.id, text: 'before I go' })))
          .state,
        'SUCCESS',
      );

      const res = await t.app.inject({ method: 'DELETE', url: `/users/${gone.id}/` });
      assert.equal(res.statusCode, 204);
      assert.equal(res.body, '');

      const missing = await req<{ detail: string }>('GET', `/users/${gone.id}/`);
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body, { detail: 'Not found.' });
      const again = await req<{ detail: string }>('DELETE', `/users/${gone.id}/`);
      assert.equal(again.status, 404);
      assert.deepEqual(again.body, { detail: 'Not found.' });
      const listed = await req<DrfUser[]>('GET', '/users/');
      assert.ok(listed.body.some((u) => u.id === keep.id));
      assert.ok(!listed.body.some((u) => u.id === gone.id));

      const read = await req<Envelope<DrfRoom>>('GET', `/chat/chatroom/${room.id}/?user_id=${keep.id}`);
      assert.deepEqual(
        read.body.data.room_member?.map((m) => m.username),
        ['del_keep'],
      );
      const history = await req<Envelope<RoomWithMessages>>(
        'GET',
        `/chat/messages/${room.id}/?user_id=${keep.id}`,
      );
      assert.deepEqual(
        history.body.data.messages.map((m) => m.text),
        ['before I go'],
      );
      // A send from the deleted user is accepted as a task, as every send is, and fails.
      const late = await taskState(
        await send(`/chat/group/${room.id}/`, { from: gone.id, text: 'still here?' }),
      );
      assert.equal(late.state, 'FAILURE');
      // The username is free again; the pk is never handed out twice.
      const reborn = await addUser('del_gone');
      assert.ok(reborn.id > gone.id);
      assert.equal((await req('DELETE', '/users/999999/')).status, 404);
    });
  });

  describe('chatrooms', () => {
    it('creates a room (200) and lists rooms, all in the {status, message, data} envelope', async () => {
      const a = await addUser('room_a');
      const b = await addUser('room_b');
      const created = await req<Envelope<DrfRoom>>('POST', '/chat/chatroom/', {
        room_name: 'general',
        room_member: [{ username: 'room_b' }, { username: 'room_a' }],
      });
      assert.equal(created.status, 200);
      assert.deepEqual(Object.keys(created.body), ['status', 'message', 'data']);
      const room = created.body.data;
      assert.deepEqual(created.body, {
        status: 200,
        message: 'HTTP_200_OK',
        data: {
          id: room.id,
          room_name: 'general',
          room_member: [{ username: 'room_a' }, { username: 'room_b' }],
        },
      });
      const all = await req<Envelope<DrfRoom[]>>('GET', '/chat/chatroom/');
      assert.equal(all.status, 200);
      assert.equal(all.body.message, 'HTTP_200_OK');
      assert.ok(all.body.data.some((r) => r.id === room.id && r.room_name === 'general'));
      assert.deepEqual(Object.keys(all.body.data[0] ?? {}), ['id', 'room_name']);
      assert.equal((await req<Envelope<DrfRoom[]>>('GET', '/chat/chatroom/?user_id=')).status, 200);
      const mine = await req<Envelope<DrfRoom[]>>('GET', `/chat/chatroom/?user_id=${b.id}`);
      assert.equal(mine.status, 200);
      assert.deepEqual(mine.body.data, [room]);
      assert.equal(
        (await req<Envelope<DrfRoom[]>>('GET', `/chat/chatroom/?user_id=${a.id}`)).body.data.length,
        1,
      );
      const detail = await req<Envelope<DrfRoom>>('GET', `/chat/chatroom/${room.id}/`);
      assert.deepEqual(detail.body, {
        status: 200,
        message: 'HTTP_200_OK',
        data: { id: room.id, room_name: 'general' },
      });
      const asMember = await req<Envelope<DrfRoom>>('GET', `/chat/chatroom/${room.id}/?user_id=${a.id}`);
      assert.deepEqual(asMember.body, { status: 200, message: 'HTTP_200_OK', data: room });
    });

    it('creates a room without members; its first joiner owns it; the last one out deletes it', async () => {
      const a = await addUser('empty_a');
      const created = await req<Envelope<DrfRoom>>('POST', '/chat/chatroom/', { room_name: 'empty_room' });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const room = created.body.data;
      assert.deepEqual(room, { id: room.id, room_name: 'empty_room', room_member: [] });
      assert.ok(
        (await req<Envelope<DrfRoom[]>>('GET', '/chat/chatroom/')).body.data.some((r) => r.id === room.id),
      );
      assert.equal((await req('PUT', `/chat/chatroom/${room.id}/?user_id=${a.id}`)).status, 200);
      const asA = clientFor(t.app, String(a.id), await t.token(String(a.id), { tenant: 'drf' }));
      const chat = (await asA.get('/v1/chats')).body.data.find((c) => c.number === room.id);
      assert.equal(chat?.role, 'owner');
      assert.equal((await req('DELETE', `/chat/chatroom/${room.id}/?user_id=${a.id}`)).status, 204);
      assert.equal((await req('GET', `/chat/chatroom/${room.id}/`)).status, 404);
    });

    it('takes room bodies as forms and multipart too (room_member[0]username, or JSON text)', async () => {
      await addUser('rf_a');
      await addUser('rf_b');
      const multi = await postForm<Envelope<DrfRoom>>(t, 'POST', '/chat/chatroom/', {
        room_name: 'rf_multi',
        'room_member[0]username': 'rf_a',
        'room_member[1]username': 'rf_b',
      });
      assert.equal(multi.status, 200, JSON.stringify(multi.body));
      assert.deepEqual(multi.body.data.room_member, [{ username: 'rf_a' }, { username: 'rf_b' }]);
      const form = urlencoded({ room_name: 'rf_form', room_member: JSON.stringify([{ username: 'rf_b' }]) });
      const viaForm = await t.request<Envelope<DrfRoom>>('POST', '/chat/chatroom/', form.body, {
        'content-type': form.type,
      });
      assert.equal(viaForm.status, 200, JSON.stringify(viaForm.body));
      assert.deepEqual(viaForm.body.data.room_member, [{ username: 'rf_b' }]);
    });

    it('refuses bad room bodies in the {status, msg} shape; nothing is created', async () => {
      await addUser('rb_a');
      const cases: [unknown, RegExp][] = [
        [{}, /^\['Body is empty or wrong foramt'\]$/],
        [[], /^\['Body is empty or wrong foramt'\]$/],
        [{ room_member: [{ username: 'rb_a' }] }, /^\['Attribute\/s room_name missing'\]$/],
        [{ room_name: '  ' }, /room_name/],
        [
          { room_name: 'rb_x', room_member: 'rb_a' },
          /^\['room_member: must be a list of objects \{"username"/,
        ],
        [
          { room_name: 'rb_x', room_member: ['rb_a'] },
          /^\['room_member\[0\]: must be an object \{"username"/,
        ],
        [{ room_name: 'rb_x', room_member: [{ name: 'rb_a' }] }, /^\['room_member\[0\]/],
        [
          { room_name: 'rb_x', room_member: [{ username: 'rb_a' }, { username: 'ghost' }] },
          /room_member\[1\].*ghost/,
        ],
      ];
      for (const [body, msg] of cases) {
        const res = await req<DrfFailure>('POST', '/chat/chatroom/', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.status, 400);
        assert.match(res.body.msg, msg);
      }
      const broken = await t.request<DrfFailure>('POST', '/chat/chatroom/', '{"room_name"', {
        'content-type': 'application/json',
      });
      assert.equal(broken.status, 400);
      assert.match(broken.body.msg, /^JSON parse error - /);
      const rooms = (await req<Envelope<DrfRoom[]>>('GET', '/chat/chatroom/')).body.data;
      assert.equal(rooms.filter((r) => r.room_name === 'rb_x').length, 0);
      await addRoom('rb_room', ['rb_a']);
      const dup = await req<DrfFailure>('POST', '/chat/chatroom/', { room_name: 'rb_room' });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.status, 409);
    });

    it('reads one room with and without a user; non-members and unknown rooms 404', async () => {
      const a = await addUser('one_a');
      const b = await addUser('one_b');
      const room = await addRoom('one_room', ['one_a']);
      const asOther = await req<DrfFailure>('GET', `/chat/chatroom/${room.id}/?user_id=${b.id}`);
      assert.equal(asOther.status, 404);
      assert.deepEqual(asOther.body, { status: 404, msg: 'Membership matching query does not exist.' });
      const unknown = await req<DrfFailure>('GET', '/chat/chatroom/99999/');
      assert.deepEqual(unknown.body, { status: 404, msg: 'ChatRoom matching query does not exist.' });
      const nobody = await req<DrfFailure>('GET', `/chat/chatroom/${room.id}/?user_id=999999`);
      assert.deepEqual(nobody.body, { status: 404, msg: 'User matching query does not exist.' });
      assert.equal((await req('GET', `/chat/chatroom/${room.id}/?user_id=${a.id}`)).status, 200);
      assert.equal((await req('GET', '/chat/chatroom/99999/')).status, 404);
      assert.equal((await req('GET', '/chat/chatroom/abc/')).status, 404);
      assert.equal((await req('GET', `/chat/chatroom/${room.id}/?user_id=999999`)).status, 404);
    });

    it('joins (PUT) and leaves (DELETE); the last one out deletes the room', async () => {
      const a = await addUser('jl_a');
      const b = await addUser('jl_b');
      const room = await addRoom('jl_room', ['jl_a']);
      const join = await req('PUT', `/chat/chatroom/${room.id}/?user_id=${b.id}`);
      assert.equal(join.status, 200);
      assert.deepEqual(join.body, { status: 200, message: 'HTTP_200_OK' });
      const again = await req<DrfFailure>('PUT', `/chat/chatroom/${room.id}/?user_id=${b.id}`);
      assert.equal(again.status, 400);
      assert.equal(again.body.msg, "['User jl_b is already part of this group']");
      const members = await req<Envelope<DrfRoom>>('GET', `/chat/chatroom/${room.id}/?user_id=${a.id}`);
      assert.equal(members.body.data.room_member?.length, 2);

      const left = await req('DELETE', `/chat/chatroom/${room.id}/?user_id=${b.id}`);
      assert.equal(left.status, 204);
      assert.equal(left.body, null);
      const notIn = await req<DrfFailure>('DELETE', `/chat/chatroom/${room.id}/?user_id=${b.id}`);
      assert.equal(notIn.status, 400);
      assert.equal(notIn.body.msg, "['User jl_b is not part of this group']");
      assert.equal((await req('DELETE', `/chat/chatroom/${room.id}/?user_id=${a.id}`)).status, 204);
      assert.equal((await req('GET', `/chat/chatroom/${room.id}/`)).status, 404);
      assert.equal((await req('PUT', `/chat/chatroom/${room.id}/?user_id=${a.id}`)).status, 404);
      await addRoom('jl_room', ['jl_b']);
    });

    it('refuses to join or leave a direct room (400) and needs user_id', async () => {
      const a = await addUser('dj_a');
      const b = await addUser('dj_b');
      const c = await addUser('dj_c');
      await send(`/chat/user/${b.id}/`, { from: a.id, text: 'psst' });
      const direct = (await req<Envelope<DrfRoom[]>>('GET', `/chat/chatroom/?user_id=${a.id}`)).body.data[0];
      assert.ok(direct);
      const join = await req<DrfFailure>('PUT', `/chat/chatroom/${direct.id}/?user_id=${c.id}`);
      assert.equal(join.status, 400);
      assert.equal(join.body.msg, '["Can\'t join a private chat"]');
      assert.equal((await req('DELETE', `/chat/chatroom/${direct.id}/?user_id=${a.id}`)).status, 400);
      const noUser = await req<DrfFailure>('PUT', `/chat/chatroom/${direct.id}/`);
      assert.equal(noUser.status, 400);
      assert.match(noUser.body.msg, /user_id/);
    });
  });

  describe('messages', () => {
    it('sends a direct message: task SUCCESS with the message in the original serializer shape', async () => {
      const a = await addUser('dm_a');
      const b = await addUser('dm_b');
      const taskId = await send(`/chat/user/${b.id}/`, { from: a.id, text: 'hello b' });
      assert.ok(taskId.length >= 32, 'task ids are not small sequence numbers');
      const state = await taskState(taskId);
      assert.equal(state.state, 'SUCCESS');
      assert.ok(typeof state.result === 'object');
      assert.deepEqual(Object.keys(state.result), ['id', 'room', 'msg_from', 'text', 'sent_at']);
      assert.equal(state.result.text, 'hello b');
      assert.equal(state.result.msg_from.id, a.id);
      assert.equal(state.result.msg_from.username, 'dm_a');
      assert.deepEqual(state.result.room, {
        id: state.result.room.id,
        room_name: 'dm_a - dm_b',
        room_member: [{ username: 'dm_a' }, { username: 'dm_b' }],
      });

      // Both directions share one room; the direct room is readable by its two members.
      await send(`/chat/user/${a.id}/`, { from: String(b.id), text: 42 });
      const rooms = (await req<Envelope<DrfRoom[]>>('GET', `/chat/chatroom/?user_id=${b.id}`)).body.data;
      assert.equal(rooms.length, 1);
      const read = await req<Envelope<DrfRoom>>('GET', `/chat/chatroom/${rooms[0]!.id}/?user_id=${a.id}`);
      assert.equal(read.body.data.room_name, 'dm_a - dm_b');
      const history = await req<Envelope<RoomWithMessages>>(
        'GET',
        `/chat/messages/${rooms[0]!.id}/?user_id=${a.id}`,
      );
      assert.deepEqual(
        history.body.data.messages.map((m) => m.text),
        ['hello b', '42'],
      );
      assert.deepEqual(Object.keys(history.body.data.messages[0]!), [
        'id',
        'msg_from',
        'text',
        'sent_at',
        'room',
      ]);
    });

    it('accepts every well-formed send with a task id; the ones that cannot succeed are FAILURE', async () => {
      const a = await addUser('fs_a');
      const b = await addUser('fs_b');
      const room = await addRoom('fs_room', ['fs_a']);
      const failures: [string, unknown, RegExp][] = [
        [
          '/chat/user/999999/',
          { from: a.id, text: 'x' },
          /User\.DoesNotExist: User matching query does not exist\./,
        ],
        [`/chat/user/${b.id}/`, { from: 999999, text: 'x' }, /User\.DoesNotExist/],
        [
          `/chat/user/${b.id}/`,
          { from: 'abc', text: 'x' },
          /ValueError: Field 'id' expected a number but got 'abc'\./,
        ],
        [`/chat/user/${a.id}/`, { from: a.id, text: 'x' }, /ValidationError.*yourself/],
        [`/chat/user/${b.id}/`, { from: a.id, text: '   ' }, /ValidationError.*blank/],
        [
          `/chat/group/${room.id}/`,
          { from: b.id, text: 'let me in' },
          /PermissionDenied: User doesn't belong to chatroom/,
        ],
        ['/chat/group/99999/', { from: a.id, text: 'x' }, /ChatRoom\.DoesNotExist: ChatRoom matching query/],
      ];
      for (const [url, body, reason] of failures) {
        const state = await taskState(await send(url, body));
        assert.equal(state.state, 'FAILURE', `${url} ${JSON.stringify(body)}`);
        assert.equal(typeof state.result, 'string');
        assert.match(state.result as string, /^\('Traceback \(most recent call last\):', /);
        assert.match(state.result as string, reason);
      }
      const history = await req<Envelope<RoomWithMessages>>(
        'GET',
        `/chat/messages/${room.id}/?user_id=${a.id}`,
      );
      assert.deepEqual(history.body.data.messages, [], 'nothing was stored');
      assert.deepEqual(
        (await req<Envelope<DrfRoom[]>>('GET', `/chat/chatroom/?user_id=${b.id}`)).body.data,
        [],
      );
    });

    it('refuses sends without a body or fields at once (400), in any body format', async () => {
      const a = await addUser('bs_a');
      const cases: [unknown, string][] = [
        [{}, "['Body is empty or wrong foramt']"],
        [[{ from: a.id, text: 'x' }], "['Body is empty or wrong foramt']"],
        [{ from: a.id }, "['Attribute/s text missing']"],
        [{ text: 'x' }, "['Attribute/s from missing']"],
        [{ hello: 1 }, "['Attribute/s from - text missing']"],
      ];
      for (const [body, msg] of cases) {
        const res = await req<DrfFailure>('POST', `/chat/user/${a.id}/`, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.deepEqual(res.body, { status: 400, msg });
      }
      const form = urlencoded({ text: 'x' });
      const viaForm = await t.request<DrfFailure>('POST', `/chat/group/1/`, form.body, {
        'content-type': form.type,
      });
      assert.deepEqual(viaForm.body, { status: 400, msg: "['Attribute/s from missing']" });
      assert.equal((await req('POST', '/chat/group/abc/', { from: a.id, text: 'x' })).status, 404);
    });

    it('answers 404 for an unknown task id; a failure is forgotten after a day', async () => {
      const res = await req<DrfFailure>('GET', '/chat/task_state/0190f0c8-0000-7000-8000-000000000000');
      assert.equal(res.status, 404);
      assert.equal(res.body.status, 404);
      const a = await addUser('exp_a');
      const old = await send('/chat/user/999999/', { from: a.id, text: 'x' });
      assert.equal((await taskState(old)).state, 'FAILURE');
      const db = t.app.parley.ctx.db;
      await sql`update failed_sends set failed_at = now() - interval '25 hours' where id = ${old}`.execute(
        db,
      );
      assert.equal((await req('GET', `/chat/task_state/${old}`)).status, 404);
      // The next failure removes the expired record: the table stays bounded.
      await send('/chat/user/999999/', { from: a.id, text: 'x' });
      const left = await sql<{
        n: number;
      }>`select count(*)::int as n from failed_sends where id = ${old}`.execute(db);
      assert.equal(left.rows[0]?.n, 0);
    });

    it("reads a room (members only) and marks the others' messages seen", async () => {
      const a = await addUser('rd_a');
      const b = await addUser('rd_b');
      const c = await addUser('rd_c');
      const room = await addRoom('rd_room', ['rd_a', 'rd_b']);
      await send(`/chat/group/${room.id}/`, { from: a.id, text: 'one' });
      await send(`/chat/group/${room.id}/`, { from: a.id, text: 'two' });

      const unseen = await req<Envelope<RoomWithMessages[]>>('GET', `/chat/messages/unseen/?user_id=${b.id}`);
      assert.equal(unseen.status, 200);
      assert.equal(unseen.body.message, 'HTTP_200_OK');
      assert.deepEqual(
        unseen.body.data.find((r) => r.id === room.id)?.messages.map((m) => m.text),
        ['one', 'two'],
      );
      // Reported once: the room is still listed, with nothing unseen.
      const again = await req<Envelope<RoomWithMessages[]>>('GET', `/chat/messages/unseen/?user_id=${b.id}`);
      assert.deepEqual(again.body.data.find((r) => r.id === room.id)?.messages, []);

      await send(`/chat/group/${room.id}/`, { from: a.id, text: 'three' });
      await send(`/chat/group/${room.id}/`, { from: b.id, text: 'mine' });
      const read = await req<Envelope<RoomWithMessages>>('GET', `/chat/messages/${room.id}/?user_id=${b.id}`);
      assert.equal(read.status, 200);
      assert.deepEqual(Object.keys(read.body), ['status', 'message', 'data']);
      const data = read.body.data;
      assert.deepEqual(Object.keys(data), ['id', 'room_name', 'room_member', 'messages']);
      assert.deepEqual(
        data.messages.map((m) => m.text),
        ['one', 'two', 'three', 'mine'],
      );
      const first = data.messages[0]!;
      assert.equal(first.msg_from.id, a.id);
      assert.equal(first.msg_from.username, 'rd_a');
      assert.deepEqual(first.msg_from.chat_room[0]?.user, { username: 'rd_a' });
      assert.equal(first.room, room.id);
      assert.ok(!Number.isNaN(Date.parse(first.sent_at)));
      const none = await req<Envelope<RoomWithMessages[]>>('GET', `/chat/messages/unseen/?user_id=${b.id}`);
      assert.deepEqual(none.body.data.find((r) => r.id === room.id)?.messages, []);
      const forA = await req<Envelope<RoomWithMessages[]>>('GET', `/chat/messages/unseen/?user_id=${a.id}`);
      assert.deepEqual(
        forA.body.data.find((r) => r.id === room.id)?.messages.map((m) => m.text),
        ['mine'],
      );

      assert.equal((await req('GET', `/chat/messages/${room.id}/?user_id=${c.id}`)).status, 404);
      assert.equal((await req('GET', `/chat/messages/${room.id}/?user_id=999999`)).status, 404);
      assert.equal((await req('GET', '/chat/messages/unseen/?user_id=999999')).status, 404);
      assert.equal((await req('GET', `/chat/messages/${room.id}/`)).status, 400);
    });

    it('shows DRF rooms through the native API in the drf tenant, read cursor included', async () => {
      const a = await addUser('nat_a');
      const b = await addUser('nat_b');
      const room = await addRoom('nat_room', ['nat_a', 'nat_b']);
      await send(`/chat/group/${room.id}/`, { from: a.id, text: 'native?' });
      const asB = clientFor(t.app, String(b.id), await t.token(String(b.id), { tenant: 'drf' }));
      const chat = (await asB.get('/v1/chats')).body.data.find((c) => c.number === room.id);
      assert.ok(chat);
      assert.equal(chat.name, 'nat_room');
      assert.equal(chat.visibility, 'public');
      assert.equal(chat.unreadCount, 1);
      await req('GET', `/chat/messages/${room.id}/?user_id=${b.id}`);
      assert.equal((await asB.get(`/v1/chats/${chat.id}`)).body.unreadCount, 0);
    });
  });
});

describe('DRF dialect: send tasks across a restart', () => {
  it('keeps what became of each task id in the database, not in the process', async () => {
    // On PostgreSQL the test app's schema is opened again by a second app; on PGlite, a data directory is.
    const dir = mkdtempSync(path.join(tmpdir(), 'parley-drf-'));
    const pglite = ENGINE === 'pglite';
    const t = pglite ? null : await createTestApp({ DIALECTS: 'drf' });
    const config = t
      ? t.config
      : loadConfig({ NODE_ENV: 'development', LOG_LEVEL: 'silent', PARLEY_DATA_DIR: dir, DIALECTS: 'drf' });
    const first = t ? t.app : await buildApp(config);
    try {
      const post = async <T>(app: FastifyInstance, url: string, body: unknown) =>
        (await inject<T>(app, 'POST', url, body)).body;
      const a = await post<{ id: number }>(first, '/users/', {
        username: 'rs_a',
        password: 'x',
        profile: {},
      });
      const b = await post<{ id: number }>(first, '/users/', {
        username: 'rs_b',
        password: 'x',
        profile: {},
      });
      const good = await post<Envelope<string>>(first, `/chat/user/${b.id}/`, { from: a.id, text: 'kept' });
      const bad = await post<Envelope<string>>(first, '/chat/user/999999/', { from: a.id, text: 'lost?' });
      await first.close();

      const second = await buildApp(config);
      try {
        const ok = await inject<DrfTaskState>(second, 'GET', `/chat/task_state/${good.data}`);
        assert.equal(ok.body.state, 'SUCCESS');
        assert.equal(typeof ok.body.result === 'object' && ok.body.result.text, 'kept');
        const failed = await inject<DrfTaskState>(second, 'GET', `/chat/task_state/${bad.data}`);
        assert.equal(failed.body.state, 'FAILURE');
        assert.match(failed.body.result as string, /User\.DoesNotExist/);
      } finally {
        await second.close();
      }
    } finally {
      await t?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
