// Live chat in a Flutter app over supportchat's own HTTP API: Server-Sent Events
// on GET /admin/api/support/user/<user_id>/events, resumed with Last-Event-ID.
//
// The stream carries only the caller's tickets: `ticket_created`,
// `message_created` (with the message) and `ticket_updated` (with the ticket).
// After a dropped connection the app reconnects with the last id it saw and
// receives everything it missed, once, in order.
//
// pubspec.yaml: http: ^1.2.0

import 'dart:async';
import 'dart:convert';

import 'package:http/http.dart' as http;

class SupportEvents {
  SupportEvents(this.baseUrl, this.userId, this.token, {required this.onEvent});

  final String baseUrl; // e.g. https://api.example.com
  final int userId;
  final String token; // the user's JWT (sub = user id)
  final void Function(String type, Map<String, dynamic> data) onEvent;

  String? _lastEventId; // persist it to resume across app restarts too
  bool _closed = false;

  Future<void> run() async {
    var pause = const Duration(seconds: 1);
    while (!_closed) {
      try {
        await _listenOnce();
        pause = const Duration(seconds: 1);
      } catch (_) {
        // network gone: retry with a growing pause
      }
      if (_closed) break;
      await Future<void>.delayed(pause);
      pause = pause * 2 > const Duration(seconds: 30) ? const Duration(seconds: 30) : pause * 2;
    }
  }

  Future<void> _listenOnce() async {
    final request = http.Request('GET', Uri.parse('$baseUrl/admin/api/support/user/$userId/events'))
      ..headers['Authorization'] = 'Bearer $token'
      ..headers['Accept'] = 'text/event-stream';
    if (_lastEventId != null) request.headers['Last-Event-ID'] = _lastEventId!;
    final client = http.Client();
    try {
      final response = await client.send(request);
      if (response.statusCode != 200) throw StateError('stream refused: ${response.statusCode}');
      await _read(response);
    } finally {
      client.close(); // also drops the connection when close() ended the loop
    }
  }

  Future<void> _read(http.StreamedResponse response) async {
    String? id, event;
    final data = StringBuffer();
    await for (final line in response.stream.transform(utf8.decoder).transform(const LineSplitter())) {
      if (_closed) return;
      if (line.isEmpty) {
        if (data.isNotEmpty && event != null) {
          onEvent(event, jsonDecode(data.toString()) as Map<String, dynamic>);
          if (id != null) _lastEventId = id;
        }
        id = event = null;
        data.clear();
      } else if (line.startsWith(':')) {
        // heartbeat comment: the connection is alive
      } else if (line.startsWith('id: ')) {
        id = line.substring(4);
      } else if (line.startsWith('event: ')) {
        event = line.substring(7);
      } else if (line.startsWith('data: ')) {
        data.write(line.substring(6));
      }
    }
  }

  void close() => _closed = true;
}
