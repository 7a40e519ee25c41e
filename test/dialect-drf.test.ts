import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clientFor, createTestApp, type TestApp } from './support/app.ts';

/** What the DRF chat API answers (Django REST framework's shapes), as these tests read them. */
interface DrfUser {
  id: number;
  username: string;
  first_name: string;
  last_name: string;
  profile: { id: number; status: string; status_msg: string; user: number };
}
interface DrfRoom {
  id: number;
  room_name: string;
  room_member?: { username: string }[];
}
/** A refusal of the chat routes: `{status, msg}`. */
interface DrfFailure {
  status: number;
  msg: string;
}
/** A serializer's refusal: the messages per field. */
type DrfFieldErrors = Record<string, string[]>;
interface DrfDone {
  status: number;
  message: string;
  /** A send's task id. */
  data: string;
}
interface DrfSender {
  id: number;
  username: string;
  chat_room: { user: { username: string } }[];
}
interface DrfMessage {
  text: string;
  msg_from: DrfSender;
  /** The room's id; in a task's result, the room itself. */
  room: number;
  sent_at: string;
}
interface DrfTaskState {
  state: string;
  result: Omit<DrfMessage, 'room'> & { room: DrfRoom };
}
interface DrfRoomMessages {
  status: number;
  data: DrfRoom & { messages: DrfMessage[] };
}
interface DrfUnseen {
  data: (DrfRoom & { messages: DrfMessage[] })[];
}

describe('DRF dialect', () => {
  let t: TestApp;
  const req = <T = unknown>(method: string, url: string, body?: unknown) => t.request<T>(method, url, body);
  const addUser = async (username: string, extra: Record<string, unknown> = {}): Promise<DrfUser> => {
    const res = await req<DrfUser>('POST', '/users/', { username, password: 'secret', ...extra });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  };
  const addRoom = async (room_name: string, usernames: string[]): Promise<DrfRoom> => {
    const res = await req<DrfRoom>('POST', '/chat/chatroom/', {
      room_name,
      room_member: usernames.map((username) => ({ username })),
    });
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
    it('creates a user with a profile and integer pk (POST /users/ → 201)', async () => {
      const user = await addUser('jbl_alice', {
        profile: { status: 'Online', status_msg: 'around' },
        first_name: 'Alice',
        last_name: 'van Dyke',
        email: 'alice@example.com',
      });
      assert.equal(typeof user.id, 'number');
      assert.deepEqual(user.profile, { id: user.id, status: 'Online', status_msg: 'around', user: user.id });
      assert.equal(user.username, 'jbl_alice');
      assert.equal(user.first_name, 'Alice');
      assert.equal(user.last_name, 'van Dyke');
      assert.equal('password' in user, false);
      for (const field of ['last_login', 'is_superuser', 'email', 'is_staff', 'is_active', 'date_joined']) {
        assert.ok(field in user, field);
      }
      const next = await addUser('jbl_alice2');
      assert.equal(next.id, user.id + 1);
      assert.equal(next.profile.status, 'Offline');
    });

    it('maps the profile onto the Parley user (native view in the drf tenant)', async () => {
      const user = await addUser('jbl_busy', { profile: { status: 'Busy', status_msg: 'in a meeting' } });
      const me = clientFor(t.app, String(user.id), await t.token(String(user.id), { tenant: 'drf' }));
      const view = await me.get('/v1/me');
      assert.equal(view.status, 200);
      assert.equal(view.body.username, 'jbl_busy');
      assert.equal(view.body.status, 'busy');
      assert.equal(view.body.statusText, 'in a meeting');
    });

    it('refuses a taken username and bad input with DRF field errors (400)', async () => {
      await addUser('jbl_taken');
      const taken = await req<DrfFieldErrors>('POST', '/users/', { username: 'jbl_taken' });
      assert.equal(taken.status, 400);
      assert.deepEqual(taken.body, { username: ['A user with that username already exists.'] });
      const missing = await req<DrfFieldErrors>('POST', '/users/', { first_name: 'x' });
      assert.equal(missing.status, 400);
      assert.ok(Array.isArray(missing.body.username));
      const status = await req<DrfFieldErrors>('POST', '/users/', {
        username: 'jbl_bad',
        profile: { status: 'Away' },
      });
      assert.equal(status.status, 400);
      assert.ok(Array.isArray(status.body['profile.status']), JSON.stringify(status.body));
    });

    it('lists users by pk and filters them', async () => {
      const a = await addUser('jbl_f1', { profile: { status: 'Online' }, first_name: 'Fil' });
      const b = await addUser('jbl_f2', { profile: { status: 'Busy' } });
      const all = await req<DrfUser[]>('GET', '/users/');
      assert.equal(all.status, 200);
      const ids = all.body.map((u) => u.id);
      assert.deepEqual(
        ids,
        [...ids].sort((x: number, y: number) => x - y),
      );
      assert.ok(ids.includes(a.id) && ids.includes(b.id));
      const byName = await req<DrfUser[]>('GET', '/users/?username=jbl_f2');
      assert.deepEqual(
        byName.body.map((u) => u.id),
        [b.id],
      );
      const byId = await req<DrfUser[]>('GET', `/users/?id=${a.id}`);
      assert.deepEqual(
        byId.body.map((u) => u.username),
        ['jbl_f1'],
      );
      const busy = await req<DrfUser[]>('GET', '/users/?profile__status=Busy');
      assert.ok(busy.body.every((u) => u.profile.status === 'Busy'));
      assert.ok(busy.body.some((u) => u.id === b.id));
      const first = await req<DrfUser[]>('GET', '/users/?first_name=Fil');
      assert.deepEqual(
        first.body.map((u) => u.id),
        [a.id],
      );
      const bad = await req('GET', '/users/?profile__status=Away');
      assert.equal(bad.status, 400);
    });

    it('reads, updates (PUT, PATCH with the nested profile) and 404s users', async () => {
      const user = await addUser('jbl_upd', { first_name: 'Old' });
      const read = await req<DrfUser>('GET', `/users/${user.id}/`);
      assert.equal(read.status, 200);
      assert.equal(read.body.username, 'jbl_upd');
      const patched = await req<DrfUser>('PATCH', `/users/${user.id}/`, {
        profile: { status: 'Busy', status_msg: 'coding' },
        last_name: 'Name',
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(patched.body.profile.status, 'Busy');
      assert.equal(patched.body.profile.status_msg, 'coding');
      assert.equal(patched.body.first_name, 'Old');
      assert.equal(patched.body.last_name, 'Name');
      const put = await req<DrfUser>('PUT', `/users/${user.id}/`, {
        username: 'jbl_upd',
        first_name: 'New',
        profile: { status: 'Online' },
      });
      assert.equal(put.status, 200);
      assert.equal(put.body.first_name, 'New');
      assert.equal(put.body.profile.status, 'Online');
      assert.equal((await req<DrfUser>('GET', `/users/${user.id}/`)).body.profile.status, 'Online');
      const putMissing = await req('PUT', `/users/${user.id}/`, { first_name: 'x' });
      assert.equal(putMissing.status, 400);
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
      const sent = await req<DrfDone>('POST', `/chat/group/${room.id}/`, {
        from: gone.id,
        text: 'before I go',
      });
      assert.equal(sent.status, 200);

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

      const read = await req<DrfRoom>('GET', `/chat/chatroom/${room.id}/?user_id=${keep.id}`);
      assert.deepEqual(
        read.body.room_member?.map((m) => m.username),
        ['del_keep'],
      );
      const history = await req<DrfRoomMessages>('GET', `/chat/messages/${room.id}/?user_id=${keep.id}`);
      assert.deepEqual(
        history.body.data.messages.map((m) => m.text),
        ['before I go'],
      );
      const late = await req<DrfFailure>('POST', `/chat/group/${room.id}/`, {
        from: gone.id,
        text: 'still here?',
      });
      assert.equal(late.status, 404);
      // The username is free again; the pk is never handed out twice.
      const reborn = await addUser('del_gone');
      assert.ok(reborn.id > gone.id);
      assert.equal((await req('DELETE', '/users/999999/')).status, 404);
    });
  });

  describe('chatrooms', () => {
    it("creates a room (200) and lists group rooms, and a user's rooms", async () => {
      const a = await addUser('room_a');
      const b = await addUser('room_b');
      const room = await addRoom('general', ['room_a', 'room_b']);
      assert.equal(typeof room.id, 'number');
      assert.deepEqual(room, {
        id: room.id,
        room_name: 'general',
        room_member: [{ username: 'room_a' }, { username: 'room_b' }],
      });
      const all = await req<DrfRoom[]>('GET', '/chat/chatroom/');
      assert.equal(all.status, 200);
      assert.ok(all.body.some((r) => r.id === room.id && r.room_name === 'general'));
      assert.deepEqual(Object.keys(all.body[0] ?? {}).sort(), ['id', 'room_name']);
      const mine = await req<DrfRoom[]>('GET', `/chat/chatroom/?user_id=${b.id}`);
      assert.equal(mine.status, 200);
      const listed = mine.body.find((r) => r.id === room.id);
      assert.deepEqual(listed?.room_member?.map((m) => m.username).sort(), ['room_a', 'room_b']);
      assert.equal((await req<DrfRoom[]>('GET', `/chat/chatroom/?user_id=${a.id}`)).body.length, 1);
    });

    it('refuses bad room bodies, unknown usernames and duplicate names', async () => {
      await addUser('rb_a');
      for (const body of [{}, [], { room_member: [{ username: 'rb_a' }] }]) {
        const res = await req<DrfFailure>('POST', '/chat/chatroom/', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.status, 400);
        assert.equal(typeof res.body.msg, 'string');
      }
      const empty = await req<DrfFailure>('POST', '/chat/chatroom/', { room_name: 'nobody' });
      assert.equal(empty.status, 400);
      assert.match(empty.body.msg, /room_member/);
      const unknown = await req<DrfFailure>('POST', '/chat/chatroom/', {
        room_name: 'ghosts',
        room_member: [{ username: 'rb_a' }, { username: 'ghost' }],
      });
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.msg, /room_member\[1\].*ghost/);
      await addRoom('rb_room', ['rb_a']);
      const dup = await req<DrfFailure>('POST', '/chat/chatroom/', {
        room_name: 'rb_room',
        room_member: [{ username: 'rb_a' }],
      });
      assert.equal(dup.status, 409);
      assert.deepEqual(dup.body.status, 409);
    });

    it('reads one room with and without a user; non-members and unknown rooms 404', async () => {
      const a = await addUser('one_a');
      const b = await addUser('one_b');
      const room = await addRoom('one_room', ['one_a']);
      const plain = await req('GET', `/chat/chatroom/${room.id}/`);
      assert.deepEqual(plain.body, { id: room.id, room_name: 'one_room' });
      const asMember = await req('GET', `/chat/chatroom/${room.id}/?user_id=${a.id}`);
      assert.deepEqual(asMember.body, {
        id: room.id,
        room_name: 'one_room',
        room_member: [{ username: 'one_a' }],
      });
      const asOther = await req<DrfFailure>('GET', `/chat/chatroom/${room.id}/?user_id=${b.id}`);
      assert.equal(asOther.status, 404);
      assert.equal(asOther.body.status, 404);
      assert.equal((await req('GET', '/chat/chatroom/99999/')).status, 404);
      assert.equal((await req('GET', '/chat/chatroom/abc/')).status, 404);
      assert.equal((await req('GET', `/chat/chatroom/${room.id}/?user_id=999999`)).status, 404);
    });

    it('joins (PUT) and leaves (DELETE); the last one out deletes the room', async () => {
      const a = await addUser('jl_a');
      const b = await addUser('jl_b');
      const room = await addRoom('jl_room', ['jl_a']);
      const join = await req<DrfDone>('PUT', `/chat/chatroom/${room.id}/?user_id=${b.id}`);
      assert.equal(join.status, 200);
      assert.deepEqual(join.body, { status: 200, message: 'HTTP_200_OK' });
      const again = await req<DrfFailure>('PUT', `/chat/chatroom/${room.id}/?user_id=${b.id}`);
      assert.equal(again.status, 400);
      assert.match(again.body.msg, /already a member/);
      const members = await req<DrfRoom>('GET', `/chat/chatroom/${room.id}/?user_id=${a.id}`);
      assert.equal(members.body.room_member?.length, 2);

      assert.equal((await req('DELETE', `/chat/chatroom/${room.id}/?user_id=${b.id}`)).status, 204);
      const notIn = await req<DrfFailure>('DELETE', `/chat/chatroom/${room.id}/?user_id=${b.id}`);
      assert.equal(notIn.status, 400);
      assert.match(notIn.body.msg, /not a member/);
      assert.equal((await req('DELETE', `/chat/chatroom/${room.id}/?user_id=${a.id}`)).status, 204);
      assert.equal((await req('GET', `/chat/chatroom/${room.id}/`)).status, 404);
      assert.equal((await req('PUT', `/chat/chatroom/${room.id}/?user_id=${a.id}`)).status, 404);
      // The name is free again.
      await addRoom('jl_room', ['jl_b']);
    });

    it('refuses to join or leave a direct room (400) and needs user_id', async () => {
      const a = await addUser('dj_a');
      const b = await addUser('dj_b');
      const c = await addUser('dj_c');
      await req('POST', `/chat/user/${b.id}/`, { from: a.id, text: 'psst' });
      const direct = (await req<DrfRoom[]>('GET', `/chat/chatroom/?user_id=${a.id}`)).body[0];
      assert.ok(direct);
      const join = await req<DrfFailure>('PUT', `/chat/chatroom/${direct.id}/?user_id=${c.id}`);
      assert.equal(join.status, 400);
      assert.equal(join.body.msg, "Can't join a private chat");
      const leave = await req('DELETE', `/chat/chatroom/${direct.id}/?user_id=${a.id}`);
      assert.equal(leave.status, 400);
      const noUser = await req<DrfFailure>('PUT', `/chat/chatroom/${direct.id}/`);
      assert.equal(noUser.status, 400);
      assert.match(noUser.body.msg, /user_id/);
    });
  });

  describe('messages', () => {
    it('sends a direct message, stored before the answer: task_state is SUCCESS with the message', async () => {
      const a = await addUser('dm_a');
      const b = await addUser('dm_b');
      const sent = await req<DrfDone>('POST', `/chat/user/${b.id}/`, { from: a.id, text: 'hello b' });
      assert.equal(sent.status, 200);
      assert.equal(sent.body.status, 200);
      assert.equal(sent.body.message, 'HTTP_200_OK');
      assert.equal(typeof sent.body.data, 'string');
      assert.ok(sent.body.data.length >= 32, 'task ids are not small sequence numbers');

      const state = await req<DrfTaskState>('GET', `/chat/task_state/${sent.body.data}`);
      assert.equal(state.status, 200);
      assert.equal(state.body.state, 'SUCCESS');
      assert.equal(state.body.result.text, 'hello b');
      assert.equal(state.body.result.msg_from.id, a.id);
      assert.equal(state.body.result.msg_from.username, 'dm_a');
      assert.equal(state.body.result.room.room_name, 'dm_a - dm_b');

      // Both directions share one room; the direct room is readable by its two members.
      await req('POST', `/chat/user/${a.id}/`, { from: b.id, text: 'hello a' });
      const [room, ...others] = (await req<DrfRoom[]>('GET', `/chat/chatroom/?user_id=${b.id}`)).body;
      assert.ok(room);
      assert.equal(others.length, 0);
      assert.equal(room.room_name, 'dm_a - dm_b');
      const read = await req<DrfRoom>('GET', `/chat/chatroom/${room.id}/?user_id=${a.id}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.room_name, 'dm_a - dm_b');
      assert.equal((await req('GET', `/chat/chatroom/${room.id}/`)).status, 404);
      const history = await req<DrfRoomMessages>('GET', `/chat/messages/${room.id}/?user_id=${a.id}`);
      assert.deepEqual(
        history.body.data.messages.map((m) => m.text),
        ['hello b', 'hello a'],
      );
    });

    it('refuses bad sends: missing fields 400, unknown users 404, self 400', async () => {
      const a = await addUser('bs_a');
      for (const body of [{}, { from: a.id }, { text: 'x' }, { from: a.id, text: '  ' }]) {
        const res = await req<DrfFailure>('POST', `/chat/user/${a.id}/`, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.status, 400);
      }
      const unknownTo = await req<DrfFailure>('POST', '/chat/user/999999/', { from: a.id, text: 'x' });
      assert.equal(unknownTo.status, 404);
      assert.match(unknownTo.body.msg, /receiver/);
      const unknownFrom = await req<DrfFailure>('POST', `/chat/user/${a.id}/`, { from: 999999, text: 'x' });
      assert.equal(unknownFrom.status, 404);
      assert.match(unknownFrom.body.msg, /from/);
      const self = await req('POST', `/chat/user/${a.id}/`, { from: a.id, text: 'x' });
      assert.equal(self.status, 400);
    });

    it('sends to a group room; a non-member is 403 and nothing is stored', async () => {
      const a = await addUser('gs_a');
      const b = await addUser('gs_b');
      const room = await addRoom('gs_room', ['gs_a']);
      const sent = await req<DrfDone>('POST', `/chat/group/${room.id}/`, {
        from: a.id,
        text: 'to the group',
      });
      assert.equal(sent.status, 200);
      const state = await req<DrfTaskState>('GET', `/chat/task_state/${sent.body.data}`);
      assert.equal(state.body.state, 'SUCCESS');
      assert.deepEqual(state.body.result.room, {
        id: room.id,
        room_name: 'gs_room',
        room_member: [{ username: 'gs_a' }],
      });
      const denied = await req<DrfFailure>('POST', `/chat/group/${room.id}/`, {
        from: b.id,
        text: 'let me in',
      });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.status, 403);
      assert.equal((await req('POST', '/chat/group/99999/', { from: a.id, text: 'x' })).status, 404);
      const history = await req<DrfRoomMessages>('GET', `/chat/messages/${room.id}/?user_id=${a.id}`);
      assert.deepEqual(
        history.body.data.messages.map((m) => m.text),
        ['to the group'],
      );
    });

    it('answers 404 for an unknown task id', async () => {
      const res = await req<DrfFailure>('GET', '/chat/task_state/0190f0c8-0000-7000-8000-000000000000');
      assert.equal(res.status, 404);
      assert.equal(res.body.status, 404);
    });

    it("reads a room (members only) and marks the others' messages seen", async () => {
      const a = await addUser('rd_a');
      const b = await addUser('rd_b');
      const c = await addUser('rd_c');
      const room = await addRoom('rd_room', ['rd_a', 'rd_b']);
      await req('POST', `/chat/group/${room.id}/`, { from: a.id, text: 'one' });
      await req('POST', `/chat/group/${room.id}/`, { from: a.id, text: 'two' });

      const unseen = await req<DrfUnseen>('GET', `/chat/messages/unseen/?user_id=${b.id}`);
      assert.equal(unseen.status, 200);
      const entry = unseen.body.data.find((r) => r.id === room.id);
      assert.deepEqual(
        entry?.messages.map((m) => m.text),
        ['one', 'two'],
      );
      // Reported once: unseen marks them seen.
      const again = await req<DrfUnseen>('GET', `/chat/messages/unseen/?user_id=${b.id}`);
      assert.equal(
        again.body.data.some((r) => r.id === room.id),
        false,
      );

      await req('POST', `/chat/group/${room.id}/`, { from: a.id, text: 'three' });
      await req('POST', `/chat/group/${room.id}/`, { from: b.id, text: 'mine' });
      const read = await req<DrfRoomMessages>('GET', `/chat/messages/${room.id}/?user_id=${b.id}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.status, 200);
      const data = read.body.data;
      assert.equal(data.id, room.id);
      assert.equal(data.room_name, 'rd_room');
      assert.deepEqual(
        data.messages.map((m) => m.text),
        ['one', 'two', 'three', 'mine'],
      );
      const first = data.messages[0];
      assert.ok(first);
      assert.equal(first.msg_from.id, a.id);
      assert.equal(first.msg_from.username, 'rd_a');
      assert.deepEqual(first.msg_from.chat_room[0]?.user, { username: 'rd_a' });
      assert.equal(first.room, room.id);
      assert.ok(!Number.isNaN(Date.parse(first.sent_at)));
      // Reading marked "three" seen; b's own message never counts.
      const none = await req<DrfUnseen>('GET', `/chat/messages/unseen/?user_id=${b.id}`);
      assert.equal(
        none.body.data.some((r) => r.id === room.id),
        false,
      );
      // a has not read b's message.
      const forA = await req<DrfUnseen>('GET', `/chat/messages/unseen/?user_id=${a.id}`);
      assert.deepEqual(
        forA.body.data.find((r) => r.id === room.id)?.messages.map((m) => m.text),
        ['mine'],
      );

      const outsider = await req('GET', `/chat/messages/${room.id}/?user_id=${c.id}`);
      assert.equal(outsider.status, 404);
      assert.equal((await req('GET', `/chat/messages/${room.id}/?user_id=999999`)).status, 404);
      assert.equal((await req('GET', '/chat/messages/unseen/?user_id=999999')).status, 404);
      assert.equal((await req('GET', `/chat/messages/${room.id}/`)).status, 400);
    });

    it('shows DRF rooms through the native API in the drf tenant, read cursor included', async () => {
      const a = await addUser('nat_a');
      const b = await addUser('nat_b');
      const room = await addRoom('nat_room', ['nat_a', 'nat_b']);
      await req('POST', `/chat/group/${room.id}/`, { from: a.id, text: 'native?' });
      const asB = clientFor(t.app, String(b.id), await t.token(String(b.id), { tenant: 'drf' }));
      const chats = await asB.get('/v1/chats');
      const chat = chats.body.data.find((c) => c.number === room.id);
      assert.ok(chat);
      assert.equal(chat.name, 'nat_room');
      assert.equal(chat.visibility, 'public');
      assert.equal(chat.unreadCount, 1);
      await req('GET', `/chat/messages/${room.id}/?user_id=${b.id}`);
      assert.equal((await asB.get(`/v1/chats/${chat.id}`)).body.unreadCount, 0);
    });
  });
});
