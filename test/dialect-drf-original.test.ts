import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createTestApp, type TestApp } from './support/app.ts';
import { postForm } from './support/drf.ts';

/**
 * The original's own test cases (dfm88/chat_webapp_DRF, `jbl_chat/chat/tests/`), case by case, over HTTP. Like the
 * originals (Django's test client, `client.post(url, data=payload)`), writes are posted as multipart/form-data.
 * Each original test starts from a fresh database (TransactionTestCase) with users user1..user4, the room `family`
 * (user1, user2, user3) and the room `friends` (user1, user4): so does each case here.
 */
interface Envelope<T> {
  status: number;
  message: string;
  data: T;
}
interface Room {
  id: number;
  room_name: string;
  room_member?: { username: string }[];
  messages?: { text: string }[];
}
interface TaskState {
  state: string;
  result: { room: Room; text: string } | string;
}

describe('DRF dialect: the original tests', () => {
  let t: TestApp;
  const users: Record<string, number> = {};
  const rooms: Record<string, number> = {};

  beforeEach(async () => {
    t = await createTestApp({ DIALECTS: 'drf' });
    for (const username of ['user1', 'user2', 'user3', 'user4']) {
      const res = await postForm<{ id: number }>(t, 'POST', '/users/', {
        username,
        password: 'test',
        'profile.status': 'Offline',
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      users[username] = res.body.id;
    }
    for (const [room_name, members] of [
      ['family', ['user1', 'user2', 'user3']],
      ['friends', ['user1', 'user4']],
    ] as const) {
      const fields: Record<string, string> = { room_name };
      members.forEach((username, i) => (fields[`room_member[${i}]username`] = username));
      const res = await postForm<Envelope<Room>>(t, 'POST', '/chat/chatroom/', fields);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      rooms[room_name] = res.body.data.id;
    }
  });
  afterEach(async () => {
    await t.close();
  });

  const taskState = (taskId: string) => t.request<TaskState>('GET', `/chat/task_state/${taskId}`);

  describe('test_chatrooms.py', () => {
    // from chat/tests/test_chatrooms.py::ChatRoomTestCase::test_0001_get_create_a_chatroom
    it('test_0001_get_create_a_chatroom', async () => {
      const created = await postForm<Envelope<Room>>(t, 'POST', '/chat/chatroom/', { room_name: 'crew' });
      assert.equal(created.status, 200);
      assert.equal(created.body.data.room_name, 'crew');

      const all = await t.request<Envelope<Room[]>>('GET', '/chat/chatroom/');
      assert.equal(all.status, 200);
      assert.ok(all.body.data.length >= 3, 'family, friends and crew');
      for (const room of all.body.data) {
        assert.equal(room.room_member, undefined);
      }

      const mine = await t.request<Envelope<Room[]>>('GET', `/chat/chatroom/?user_id=${users.user1}`);
      assert.ok(mine.body.data.length >= 2, 'family and friends');
      for (const room of mine.body.data) {
        assert.notEqual(room.room_member, undefined);
      }
    });

    // from chat/tests/test_chatrooms.py::ChatRoomTestCase::test_0002_join_leave_a_chatroom
    it('test_0002_join_leave_a_chatroom', async () => {
      const created = await postForm<Envelope<Room>>(t, 'POST', '/chat/chatroom/', { room_name: 'besties' });
      assert.equal(created.status, 200);
      assert.equal(created.body.data.room_name, 'besties');
      const roomId = created.body.data.id;
      const url = `/chat/chatroom/${roomId}/`;

      assert.equal((await t.request('PUT', `${url}?user_id=${users.user2}`)).status, 200);
      assert.equal((await t.request('PUT', `${url}?user_id=${users.user3}`)).status, 200);
      // User 2 leaves; the room still exists because user 3 is still in.
      assert.equal((await t.request('DELETE', `${url}?user_id=${users.user2}`)).status, 204);
      assert.equal((await t.request('GET', url)).status, 200);
      // User 3 leaves: the room is empty, so it is deleted.
      assert.equal((await t.request('DELETE', `${url}?user_id=${users.user3}`)).status, 204);
      assert.equal((await t.request('GET', url)).status, 404);

      // Joining a private (direct) room is refused. The original makes one in the database; here the first
      // direct message between two users makes it.
      const sent = await postForm<Envelope<string>>(t, 'POST', `/chat/user/${users.user4}/`, {
        from: users.user1,
        text: 'just us',
      });
      assert.equal(sent.status, 200);
      const state = await taskState(sent.body.data);
      assert.equal(state.body.state, 'SUCCESS');
      const privateRoom = (state.body.result as { room: Room }).room.id;
      assert.equal(
        (await t.request('PUT', `/chat/chatroom/${privateRoom}/?user_id=${users.user2}`)).status,
        400,
      );
    });
  });

  describe('test_messages.py', () => {
    // from chat/tests/test_messages.py::MessagesTestCase::test_0001_direct_message
    it('test_0001_direct_message', async () => {
      const sent = await postForm<Envelope<string>>(t, 'POST', `/chat/user/${users.user2}/`, {
        from: users.user1,
        text: 'hi my man',
      });
      assert.equal(sent.status, 200);
      assert.equal(sent.body.status, 200);

      const state = await taskState(sent.body.data);
      assert.equal(state.status, 200);
      assert.equal(state.body.state, 'SUCCESS');
      const roomId = (state.body.result as { room: Room }).room.id;

      // The answer goes back to user 1: the same room.
      const back = await postForm<Envelope<string>>(t, 'POST', `/chat/user/${users.user1}/`, {
        from: users.user2,
        text: "hey what's up",
      });
      const backState = await taskState(back.body.data);
      assert.equal((backState.body.result as { room: Room }).room.id, roomId);
    });

    // from chat/tests/test_messages.py::MessagesTestCase::test_0002_group_message
    it('test_0002_group_message', async () => {
      const url = `/chat/group/${rooms.family}/`;
      const sent = await postForm<Envelope<string>>(t, 'POST', url, { from: users.user1, text: 'hi family' });
      assert.equal(sent.status, 200);
      const state = await taskState(sent.body.data);
      assert.equal(state.status, 200);
      assert.equal(state.body.state, 'SUCCESS');

      // user4 (a friend, not family) is accepted too, and the task fails.
      const denied = await postForm<Envelope<string>>(t, 'POST', url, {
        from: users.user4,
        text: 'can I be part of the family?',
      });
      assert.equal(denied.status, 200);
      const failed = await taskState(denied.body.data);
      assert.equal(failed.status, 200);
      assert.equal(failed.body.state, 'FAILURE', JSON.stringify(failed.body.result));
    });

    // from chat/tests/test_messages.py::MessagesTestCase::test_0003_read_message_by_room
    it('test_0003_read_message_by_room', async () => {
      const text = 'hi family';
      const sent = await postForm(t, 'POST', `/chat/group/${rooms.family}/`, { from: users.user1, text });
      assert.equal(sent.status, 200);

      const read = await t.request<Envelope<Room>>(
        'GET',
        `/chat/messages/${rooms.family}/?user_id=${users.user2}`,
      );
      assert.equal(read.status, 200);
      assert.equal(read.body.data.messages?.[0]?.text, text);

      // user4 cannot read it: not in the family ("chatroom not found").
      const outsider = await t.request<{ status: number }>(
        'GET',
        `/chat/messages/${rooms.family}/?user_id=${users.user4}`,
      );
      assert.equal(outsider.body.status, 404);
    });

    // from chat/tests/test_messages.py::MessagesTestCase::test_0004_read_all_unseen_messages (empty in the
    // original; what its docstring says: "reading all and only unread messages and set as seen")
    it('test_0004_read_all_unseen_messages', async () => {
      await postForm(t, 'POST', `/chat/group/${rooms.family}/`, { from: users.user1, text: 'one' });
      await postForm(t, 'POST', `/chat/group/${rooms.family}/`, { from: users.user2, text: 'two' });
      const unseen = await t.request<Envelope<Room[]>>(
        'GET',
        `/chat/messages/unseen/?user_id=${users.user2}`,
      );
      assert.equal(unseen.status, 200);
      const family = unseen.body.data.find((room) => room.id === rooms.family);
      assert.deepEqual(
        family?.messages?.map((m) => m.text),
        ['one'],
      );
      const again = await t.request<Envelope<Room[]>>('GET', `/chat/messages/unseen/?user_id=${users.user2}`);
      assert.deepEqual(
        again.body.data.flatMap((room) => room.messages ?? []),
        [],
      );
    });
  });
});
