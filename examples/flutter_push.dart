// Push notifications in a Flutter app with supportchat (spec §15): register the FCM token with
// POST /admin/api/support/user/<user_id>/devices and open the ticket when a notification is tapped.
//
// The server sends through FCM HTTP v1 (iOS through APNs). Each push carries `data` with
// `event` (admin_reply | resolved), `ticket_id`, `ticket_number` and `message_id`, and, unless the
// server runs in privacy mode, a notification title and body in the app's language. One collapse key
// per ticket: a newer push about a ticket replaces the older one in the tray.
//
// pubspec.yaml:
//   firebase_core: ^3.0.0
//   firebase_messaging: ^15.0.0
//   http: ^1.2.0
//
// Privacy mode sends data only (no text in the request): show a local notification of your own from
// the data (flutter_local_notifications), with a generic text such as "New reply from support".

import 'dart:convert';
import 'dart:io' show Platform;

import 'package:firebase_core/firebase_core.dart';
import 'package:firebase_messaging/firebase_messaging.dart';
import 'package:flutter/foundation.dart' show kIsWeb;
import 'package:http/http.dart' as http;

class SupportPush {
  SupportPush(this.baseUrl, this.userId, this.token, {required this.openTicket, this.locale});

  final String baseUrl; // e.g. https://api.example.com
  final int userId;
  final String token; // the user's JWT (sub = user id)
  final String? locale; // e.g. 'es' or 'en-GB'; the server falls back to the contact's locale
  final void Function(int ticketId, String ticketNumber) openTicket;

  String get _devices => '$baseUrl/admin/api/support/user/$userId/devices';

  Map<String, String> get _headers => {
        'Authorization': 'Bearer $token',
        'Content-Type': 'application/json',
      };

  String get _platform => kIsWeb ? 'web' : (Platform.isIOS ? 'ios' : 'android');

  /// Call once after login (Firebase.initializeApp() done).
  Future<void> start() async {
    final messaging = FirebaseMessaging.instance;
    // iOS and web ask the user; Android 13+ asks through the same call.
    await messaging.requestPermission(alert: true, badge: true, sound: true);

    final fcmToken = await messaging.getToken();
    if (fcmToken != null) await _register(fcmToken);
    // FCM rotates tokens: register the new one (the server moves it to this user if needed).
    messaging.onTokenRefresh.listen(_register);

    // Tapped while the app was in the background.
    FirebaseMessaging.onMessageOpenedApp.listen(_open);
    // Tapped while the app was terminated: the message that launched it.
    final initial = await messaging.getInitialMessage();
    if (initial != null) _open(initial);

    // In the foreground no system notification is shown: refresh the open thread instead.
    FirebaseMessaging.onMessage.listen((message) {
      // e.g. reload the ticket whose id is message.data['ticket_id'] if it is on screen
    });
  }

  Future<void> _register(String fcmToken) async {
    // Registering again refreshes the device's last-seen time: the server forgets tokens unused
    // for 270 days, as FCM does.
    final response = await http.post(
      Uri.parse(_devices),
      headers: _headers,
      body: jsonEncode({'token': fcmToken, 'platform': _platform, if (locale != null) 'locale': locale}),
    );
    if (response.statusCode != 200) {
      throw Exception('device registration failed: ${response.statusCode} ${response.body}');
    }
  }

  /// Call on logout, so the next user of this phone does not get this user's pushes.
  Future<void> stop() async {
    final fcmToken = await FirebaseMessaging.instance.getToken();
    if (fcmToken == null) return;
    await http.delete(Uri.parse('$_devices/${Uri.encodeComponent(fcmToken)}'), headers: _headers);
  }

  void _open(RemoteMessage message) {
    final ticketId = int.tryParse(message.data['ticket_id'] ?? '');
    if (ticketId == null) return;
    openTicket(ticketId, message.data['ticket_number'] ?? '');
  }
}

// main.dart:
//
// @pragma('vm:entry-point')
// Future<void> _background(RemoteMessage message) async {
//   await Firebase.initializeApp(); // data-only (privacy mode) pushes arrive here
// }
//
// Future<void> main() async {
//   WidgetsFlutterBinding.ensureInitialized();
//   await Firebase.initializeApp();
//   FirebaseMessaging.onBackgroundMessage(_background);
//   runApp(const App());
// }
//
// After login:
//   await SupportPush(baseUrl, userId, jwt, locale: 'es',
//       openTicket: (id, number) => navigator.pushNamed('/tickets/$id')).start();
