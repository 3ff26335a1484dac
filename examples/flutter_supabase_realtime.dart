// Live chat in a Flutter app on Supabase: the user's own messages through
// Supabase Realtime, restricted by row-level security.
//
// supportchat's shipped SQL (supportchat/sql/supabase.sql) puts
// support_messages and support_tickets in the `supabase_realtime` publication;
// Realtime applies the tables' SELECT policies to every change it forwards, so
// this subscription only ever receives rows of the signed-in user's tickets,
// whatever filter the app asks for.
//
// The token: supportchat's user ids are integers, so the JWT Realtime sees
// must carry the numeric user id as `sub` (minted by your backend, signed with
// the project's JWT secret). Pass it with `accessToken`.
//
// Realtime does not replay what happened while the app was offline: on every
// (re)subscription the app reads the messages newer than the last one it has
// (the `after_id` idea of the HTTP API), then relies on the live inserts.
//
// pubspec.yaml: supabase_flutter: ^2.5.0

import 'package:supabase_flutter/supabase_flutter.dart';

Future<void> initSupport(String url, String anonKey, Future<String> Function() userJwt) async {
  await Supabase.initialize(url: url, anonKey: anonKey, accessToken: userJwt);
}

class TicketChat {
  TicketChat(this.ticketId, {required this.onMessage, required this.onTicket});

  final int ticketId;
  final void Function(Map<String, dynamic> message) onMessage;
  final void Function(Map<String, dynamic> ticket) onTicket;

  final _client = Supabase.instance.client;
  RealtimeChannel? _channel;
  int _lastMessageId = 0;

  /// Start listening; missed messages are fetched each time the channel is (re)joined.
  void open() {
    _channel = _client
        .channel('support-ticket-$ticketId')
        .onPostgresChanges(
          event: PostgresChangeEvent.insert,
          schema: 'public',
          table: 'support_messages',
          filter: PostgresChangeFilter(
            type: PostgresChangeFilterType.eq,
            column: 'ticket_id',
            value: ticketId,
          ),
          callback: (payload) => _deliver(payload.newRecord),
        )
        .onPostgresChanges(
          event: PostgresChangeEvent.update,
          schema: 'public',
          table: 'support_tickets',
          filter: PostgresChangeFilter(
            type: PostgresChangeFilterType.eq,
            column: 'id',
            value: ticketId,
          ),
          callback: (payload) => onTicket(payload.newRecord),
        )
        .subscribe((status, [error]) {
          if (status == RealtimeSubscribeStatus.subscribed) {
            _catchUp();
          }
        });
  }

  Future<void> _catchUp() async {
    final rows = await _client
        .from('support_messages')
        .select()
        .eq('ticket_id', ticketId)
        .gt('id', _lastMessageId)
        .order('id');
    for (final row in rows) {
      _deliver(row);
    }
  }

  void _deliver(Map<String, dynamic> message) {
    final id = message['id'] as int;
    if (id <= _lastMessageId) return; // seen already (catch-up and live insert overlap)
    _lastMessageId = id;
    onMessage(message);
  }

  Future<void> close() async {
    final channel = _channel;
    if (channel != null) await _client.removeChannel(channel);
  }
}
