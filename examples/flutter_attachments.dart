// Photos and documents in a Flutter app over supportchat's HTTP API (spec §14).
//
// Two phases: upload the file to the ticket (multipart, field `file`), then send
// a message citing it with `attachment_id`. The server checks the file by its
// content, strips the photo's EXIF/GPS, turns it upright and turns HEIC into
// JPEG. Every message JSON that cites an upload carries `attachment` and a
// `file_url` signed for this user, valid for an hour: show it directly with
// Image.network (no header needed); read the thread again for fresh URLs.
//
// pubspec.yaml: http: ^1.2.0, http_parser: ^4.0.0 (and image_picker to pick photos)

import 'dart:convert';
import 'dart:io';

import 'package:flutter/material.dart';
import 'package:http/http.dart' as http;
import 'package:http_parser/http_parser.dart';

class SupportAttachments {
  SupportAttachments(this.baseUrl, this.userId, this.token);

  final String baseUrl; // e.g. https://api.example.com
  final int userId;
  final String token; // the user's JWT (sub = user id)

  String get _api => '$baseUrl/admin/api/support';

  /// Uploads [file] to the ticket; returns the attachment JSON (`id`, `url`, `thumbnail_url`, …).
  Future<Map<String, dynamic>> upload(String ticketId, File file, {String? contentType}) async {
    final request = http.MultipartRequest('POST', Uri.parse('$_api/user/$userId/tickets/$ticketId/attachments'))
      ..headers['Authorization'] = 'Bearer $token'
      ..files.add(await http.MultipartFile.fromPath(
        'file',
        file.path,
        // The declared type must agree with the bytes; leave it out if unsure.
        contentType: contentType == null ? null : MediaType.parse(contentType),
      ));
    final response = await http.Response.fromStream(await request.send());
    final body = jsonDecode(response.body) as Map<String, dynamic>;
    if (response.statusCode != 200) {
      // 413 payload_too_large, 422 invalid_file (error.details.reason says why), 409 ticket_closed
      throw Exception((body['error'] as Map<String, dynamic>)['message']);
    }
    return body['data'] as Map<String, dynamic>;
  }

  /// Sends a message citing an upload; the answer is the message with `attachment` and a signed `file_url`.
  Future<Map<String, dynamic>> send(String ticketId, String text, int attachmentId) async {
    final response = await http.post(
      Uri.parse('$_api/tickets/$ticketId/user-message'),
      headers: {'Authorization': 'Bearer $token', 'Content-Type': 'application/json'},
      body: jsonEncode({'user_id': userId, 'message': text, 'attachment_id': attachmentId}),
    );
    if (response.statusCode != 200) throw Exception(response.body);
    return (jsonDecode(response.body) as Map<String, dynamic>)['data'] as Map<String, dynamic>;
  }
}

/// One message of the thread: an image inline (its thumbnail, tap for the full one), or a document to open.
class AttachmentView extends StatelessWidget {
  const AttachmentView({super.key, required this.baseUrl, required this.message, required this.onOpenDocument});

  final String baseUrl; // URLs are root-relative unless the server sets SUPPORTCHAT_PUBLIC_URL
  final Map<String, dynamic> message;
  final void Function(Uri url) onOpenDocument; // e.g. url_launcher's launchUrl

  String _absolute(String url) => url.startsWith('/') ? '$baseUrl$url' : url;

  @override
  Widget build(BuildContext context) {
    final attachment = message['attachment'] as Map<String, dynamic>?;
    if (attachment == null) return Text(message['message'] as String);
    if (attachment['kind'] == 'image') {
      return GestureDetector(
        onTap: () => Navigator.of(context).push(MaterialPageRoute<void>(
          builder: (_) => Scaffold(appBar: AppBar(), body: InteractiveViewer(child: Image.network(_absolute(attachment['url'] as String)))),
        )),
        child: Image.network(
          _absolute((attachment['thumbnail_url'] ?? attachment['url']) as String),
          semanticLabel: attachment['filename'] as String,
          // An expired URL answers 401 url_expired: reload the thread for fresh ones.
          errorBuilder: (_, __, ___) => const Icon(Icons.broken_image),
        ),
      );
    }
    return ListTile(
      leading: const Icon(Icons.description),
      title: Text(attachment['filename'] as String),
      subtitle: Text('${((attachment['size'] as int) / 1024).ceil()} KB'),
      onTap: () => onOpenDocument(Uri.parse(_absolute(attachment['url'] as String))),
    );
  }
}
