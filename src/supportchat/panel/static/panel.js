/* supportchat admin panel.
 *
 * Security rules this file keeps: stored text only ever reaches the page
 * through textContent (never innerHTML), links only get http(s) URLs, and
 * every write carries the CSRF token the session endpoint hands out.
 */
(function () {
  "use strict";

  // -- interface text: every string of the panel, in one dictionary ----------

  var STRINGS = {
    en: {
      "app.title": "Support desk",
      "login.title": "Support desk sign-in",
      "login.help": "Enter your admin token (created with `supportchat admin create`).",
      "login.token": "Admin token",
      "login.submit": "Sign in",
      "login.invalid": "That token is not valid.",
      "login.failed": "Sign-in failed ({status}).",
      "notice.signedOut": "You are not signed in.",
      "notice.forbidden": "Only admins may use the support panel.",
      "notice.signin": "Sign in",
      "nav.tickets": "Tickets",
      "nav.stats": "Statistics",
      "nav.teams": "Teams",
      "nav.reports": "Reports",
      "reports.title": "Reports",
      "reports.from": "From",
      "reports.to": "To (excluded)",
      "reports.groupBy": "Group by",
      "reports.show": "Show",
      "reports.csv": "Download CSV",
      "reports.group.day": "Day",
      "reports.group.week": "Week",
      "reports.group.month": "Month",
      "reports.group.agent": "Agent",
      "reports.group.category": "Category",
      "reports.group.priority": "Priority",
      "reports.col.group": "Group",
      "reports.col.created": "Created",
      "reports.col.resolved": "Resolved",
      "reports.col.reopened": "Reopened",
      "reports.col.frtMedian": "First response, median (s)",
      "reports.col.frtP90": "First response, p90 (s)",
      "reports.col.nextMedian": "Next response, median (s)",
      "reports.col.resolutionMedian": "Resolution, median (s)",
      "reports.col.resolutionP90": "Resolution, p90 (s)",
      "reports.col.csat": "CSAT mean",
      "reports.col.csatCount": "Ratings",
      "reports.col.slaFirst": "SLA first response met",
      "reports.col.slaResolution": "SLA resolution met",
      "reports.col.backlog": "Backlog",
      "reports.chartFirstResponse": "First response, median seconds",
      "reports.chartCreated": "Tickets created",
      "reports.chartSla": "SLA first responses met (share)",
      "reports.chartCsat": "CSAT mean score",
      "reports.empty": "No figures in this range.",
      "nav.automation": "Automation",
      "ack.title": "Auto-acknowledgement of new tickets",
      "ack.help": "A canned response sent to every new ticket, chosen by the calendar's working hours and the contact's language.",
      "ack.enabled": "Acknowledge new tickets",
      "ack.calendar": "Business calendar",
      "ack.insideEs": "In hours, Spanish",
      "ack.insideEn": "In hours, English",
      "ack.outsideEs": "Out of hours, Spanish",
      "ack.outsideEn": "Out of hours, English",
      "ack.defaultLanguage": "Other languages get",
      "ack.none": "(none)",
      "ack.save": "Save",
      "ack.saved": "Saved: version {version} of rule {rule}.",
      "ack.unset": "Not set up yet.",
      "ack.language.es": "Spanish",
      "ack.language.en": "English",
      "col.actions": "Actions",
      "automation.edit": "Edit",
      "automation.delete": "Delete",
      "automation.editOf": "Edit {name}",
      "automation.deleteOf": "Delete {name}",
      "automation.cancel": "Cancel",
      "automation.deleted": "Deleted.",
      "cannedAdmin.title": "Canned responses",
      "cannedAdmin.code": "Short code",
      "cannedAdmin.name": "Title",
      "cannedAdmin.scope": "Visible to",
      "cannedAdmin.shared": "Everyone (shared)",
      "cannedAdmin.personal": "Only me (personal)",
      "cannedAdmin.content": "Text",
      "cannedAdmin.variables": "Variables such as {{ticket.number}}, {{user.name}} and {{agent.name}}; an unknown one is refused when saving.",
      "cannedAdmin.none": "No canned responses yet.",
      "cannedAdmin.new": "New canned response",
      "cannedAdmin.editing": "Edit /{code}",
      "cannedAdmin.saved": "Canned response /{code} saved.",
      "articles.title": "Knowledge base",
      "articles.help": "The articles the bot answers with, in the ticket's language.",
      "articles.name": "Title",
      "articles.language": "Language",
      "articles.tags": "Tags",
      "articles.tagsInput": "Tags (separated by commas)",
      "articles.body": "Text",
      "articles.none": "No articles yet.",
      "articles.new": "New article",
      "articles.editing": "Edit article {id}",
      "articles.saved": "Article saved.",
      "rules.title": "Rules",
      "rules.id": "Id",
      "rules.name": "Name",
      "rules.trigger": "Trigger",
      "rules.version": "Version",
      "rules.enabled": "Enabled",
      "rules.enabledOf": "Rule {name} enabled",
      "rules.none": "No rules yet.",
      "rules.new": "New rule",
      "rules.editing": "Edit rule {id}",
      "rules.definition": "Rule (JSON)",
      "rules.help": "Name, trigger, conditions and actions as docs/automation.md describes them; the server checks the rule, and every save is a new version.",
      "rules.badJson": "Not valid JSON: {message}",
      "rules.saved": "Rule {id} saved: version {version}.",
      "rules.triggerEvent": "On {events}",
      "rules.triggerTime": "After {seconds} s",
      "dryRun.title": "Dry run",
      "dryRun.help": "What the rules would have done between two dates, replayed over the record of events; nothing is written.",
      "dryRun.rule": "Rule",
      "dryRun.all": "All rules",
      "dryRun.run": "Run",
      "dryRun.at": "When",
      "dryRun.ticket": "Ticket",
      "dryRun.actions": "Actions",
      "dryRun.dropped": "Held back by the limits",
      "dryRun.none": "The rules would have done nothing in this range.",
      "teams.availability": "Agents' availability",
      "teams.title": "Teams",
      "teams.noAgents": "No agents yet.",
      "teams.none": "No teams yet.",
      "teams.newName": "New team (a-z 0-9 - _)",
      "teams.create": "Create team",
      "teams.saved": "Saved.",
      "teams.yes": "Yes",
      "teams.no": "No",
      "teams.on": "On",
      "teams.off": "Off",
      "teams.statusOf": "Availability of {name}",
      "teams.autoOf": "Auto-assignment of {name}",
      "availability.available": "Available",
      "availability.away": "Away",
      "availability.offline": "Offline",
      "col.agent": "Agent",
      "col.teams": "Teams",
      "col.load": "Open / capacity",
      "col.availability": "Availability",
      "col.takes": "Takes tickets",
      "col.team": "Team",
      "col.categories": "Categories",
      "col.members": "Members",
      "col.waiting": "Waiting",
      "col.autoAssign": "Auto-assign",
      "transfer.title": "Transfer",
      "transfer.to": "To",
      "transfer.agents": "Agents",
      "transfer.teams": "Teams",
      "transfer.reason": "Reason",
      "transfer.note": "Note",
      "transfer.force": "Even if unavailable or full",
      "transfer.send": "Transfer",
      "transfer.done": "Ticket transferred.",
      "field.team": "team",
      "field.transfer_reason": "transfer reason",
      "field.transfer_note": "transfer note",
      "field.transfer_forced": "forced transfer",
      "nav.logout": "Sign out",
      "live.connecting": "Connecting…",
      "live.live": "Live",
      "live.polling": "Live (polling)",
      "live.offline": "Offline",
      "filter.all": "All",
      "filter.any": "Any",
      "filter.unassigned": "Unassigned",
      "filter.priority": "Priority",
      "filter.category": "Category",
      "filter.assignee": "Assignee",
      "filter.search": "Search",
      "filter.tag": "Tag",
      "filter.apply": "Filter",
      "filter.reset": "Clear",
      "col.number": "Number",
      "col.subject": "Subject",
      "col.status": "Status",
      "col.priority": "Priority",
      "col.category": "Category",
      "col.assignee": "Assignee",
      "col.updated": "Updated",
      "col.sla": "SLA",
      "filter.sort": "Order",
      "sort.newest": "Newest first",
      "sort.due": "SLA due first",
      "sla.paused": "Paused",
      "sla.left": "{time} left",
      "sla.over": "{time} over",
      "sla.met": "Met",
      "sla.ticket": "SLA {policy}: {target} due {due} · {left}",
      "sla.target.first_response": "first response",
      "sla.target.next_response": "next response",
      "sla.target.resolution": "resolution",
      "sla.breached": "breached: {targets}",
      "list.empty": "No tickets match.",
      "list.unread": "{count} unread",
      "page.prev": "Previous",
      "page.next": "Next",
      "page.info": "Page {page} of {pages} · {total} tickets",
      "ticket.close": "Close view",
      "ticket.status": "Status",
      "ticket.assignee": "Assigned to",
      "ticket.apply": "Apply",
      "ticket.current": "{label} (current)",
      "ticket.closedNote": "Closed tickets cannot change status or receive messages.",
      "ticket.meta": "User #{user} · {priority} · {category} · opened {created}",
      "ticket.updated": "Ticket updated.",
      "msg.user": "User #{id}",
      "msg.admin": "Admin {name}",
      "msg.read": "Read",
      "msg.sent": "Sent",
      "msg.attachment": "Attachment",
      "msg.older": "Load older messages",
      "msg.loadingOlder": "Loading older messages…",
      "reply.placeholder": "Write a reply… (type / for canned responses)",
      "msg.automated": "Automatic answer",
      "canned.suggestions": "Canned responses",
      "reply.send": "Send",
      "note.label": "Internal note (admins only)",
      "note.send": "Add note",
      "note.badge": "Internal note · {name}",
      "note.added": "Internal note added.",
      "tags.title": "Tags",
      "tags.none": "No tags",
      "tags.add": "Add a tag",
      "tags.addButton": "Add",
      "tags.remove": "Remove tag {tag}",
      "history.note": "{who} added an internal note",
      "field.tags": "the tags",
      "stats.byTag": "By tag (most used)",
      "reply.attach": "Attach a file",
      "reply.uploading": "Uploading {name}",
      "reply.attached": "Attached: {name}",
      "reply.removeAttachment": "Remove the attachment",
      "msg.enlarge": "Enlarge {name}",
      "msg.download": "Download {name} ({size} KB)",
      "viewer.close": "Close",
      "history.title": "Record of changes",
      "history.empty": "No changes yet.",
      "history.entry": "{who} changed {field}: {old} → {new}",
      "history.none": "none",
      "push.title": "Push notifications",
      "push.empty": "No push notifications for this ticket.",
      "push.entry": "{event} to {who} (device {device}): {status}",
      "push.attempt": "attempt {number}: {status}",
      "push.event.admin_reply": "Reply",
      "push.event.resolved": "Resolved",
      "push.event.new_ticket": "New ticket",
      "push.event.user_reply": "User reply",
      "push.status.pending": "pending",
      "push.status.delivered": "delivered",
      "push.status.coalesced": "joined to a later push",
      "push.status.unregistered": "token no longer valid, device removed",
      "push.status.failed": "failed",
      "push.status.skipped": "not sent (device removed or reassigned)",
      "push.user": "user #{id}",
      "push.agent": "agent {name}",
      "who.admin": "admin {name}",
      "who.user": "user #{id}",
      "who.system": "the system",
      "field.status": "status",
      "field.assigned_to": "assignment",
      "field.priority": "priority",
      "field.rating": "the rating",
      "field.merged_into": "merged into ticket",
      "field.merged_from": "merged in ticket",
      "rating.shown": "Rated {score}/5 by the user",
      "rating.comment": "Rated {score}/5 by the user: “{comment}”",
      "merge.into": "Merge into ticket (id or number)",
      "merge.submit": "Merge",
      "merge.done": "{source} merged into {target}.",
      "list.merged": "merged into #{id}",
      "toast.newTicket": "New ticket {number}: {subject}",
      "toast.newTicketNoSubject": "New ticket",
      "toast.error": "Error: {message}",
      "stats.total": "Tickets",
      "stats.unread": "Unread messages",
      "stats.byStatus": "By status",
      "stats.byPriority": "By priority",
      "stats.byCategory": "By category",
      "status.open": "Open",
      "status.in_progress": "In progress",
      "status.resolved": "Resolved",
      "status.closed": "Closed",
      "priority.low": "Low",
      "priority.medium": "Medium",
      "priority.high": "High",
      "priority.urgent": "Urgent",
      "category.general": "General",
      "category.technical": "Technical",
      "category.billing": "Billing",
      "category.flight": "Flight",
      "category.order": "Order",
    },
    es: {
      "app.title": "Centro de soporte",
      "login.title": "Acceso al centro de soporte",
      "login.help": "Introduce tu token de administrador (creado con `supportchat admin create`).",
      "login.token": "Token de administrador",
      "login.submit": "Entrar",
      "login.invalid": "Ese token no es válido.",
      "login.failed": "No se pudo entrar ({status}).",
      "notice.signedOut": "No has iniciado sesión.",
      "notice.forbidden": "Solo los administradores pueden usar el panel de soporte.",
      "notice.signin": "Iniciar sesión",
      "nav.tickets": "Tickets",
      "nav.stats": "Estadísticas",
      "nav.teams": "Equipos",
      "nav.reports": "Informes",
      "reports.title": "Informes",
      "reports.from": "Desde",
      "reports.to": "Hasta (excluido)",
      "reports.groupBy": "Agrupar por",
      "reports.show": "Mostrar",
      "reports.csv": "Descargar CSV",
      "reports.group.day": "Día",
      "reports.group.week": "Semana",
      "reports.group.month": "Mes",
      "reports.group.agent": "Agente",
      "reports.group.category": "Categoría",
      "reports.group.priority": "Prioridad",
      "reports.col.group": "Grupo",
      "reports.col.created": "Creados",
      "reports.col.resolved": "Resueltos",
      "reports.col.reopened": "Reabiertos",
      "reports.col.frtMedian": "Primera respuesta, mediana (s)",
      "reports.col.frtP90": "Primera respuesta, p90 (s)",
      "reports.col.nextMedian": "Siguiente respuesta, mediana (s)",
      "reports.col.resolutionMedian": "Resolución, mediana (s)",
      "reports.col.resolutionP90": "Resolución, p90 (s)",
      "reports.col.csat": "CSAT media",
      "reports.col.csatCount": "Valoraciones",
      "reports.col.slaFirst": "SLA primera respuesta cumplido",
      "reports.col.slaResolution": "SLA resolución cumplido",
      "reports.col.backlog": "Pendientes",
      "reports.chartFirstResponse": "Primera respuesta, mediana en segundos",
      "reports.chartCreated": "Tickets creados",
      "reports.chartSla": "Primeras respuestas en SLA (proporción)",
      "reports.chartCsat": "CSAT, puntuación media",
      "reports.empty": "Sin cifras en este intervalo.",
      "nav.automation": "Automatización",
      "ack.title": "Acuse de recibo de los tickets nuevos",
      "ack.help": "Una respuesta predefinida para cada ticket nuevo, según el horario del calendario y el idioma del contacto.",
      "ack.enabled": "Acusar recibo de los tickets nuevos",
      "ack.calendar": "Calendario laboral",
      "ack.insideEs": "En horario, español",
      "ack.insideEn": "En horario, inglés",
      "ack.outsideEs": "Fuera de horario, español",
      "ack.outsideEn": "Fuera de horario, inglés",
      "ack.defaultLanguage": "Otros idiomas reciben",
      "ack.none": "(ninguna)",
      "ack.save": "Guardar",
      "ack.saved": "Guardado: versión {version} de la regla {rule}.",
      "ack.unset": "Aún no está configurado.",
      "ack.language.es": "Español",
      "ack.language.en": "Inglés",
      "col.actions": "Acciones",
      "automation.edit": "Editar",
      "automation.delete": "Borrar",
      "automation.editOf": "Editar {name}",
      "automation.deleteOf": "Borrar {name}",
      "automation.cancel": "Cancelar",
      "automation.deleted": "Borrado.",
      "cannedAdmin.title": "Respuestas predefinidas",
      "cannedAdmin.code": "Código corto",
      "cannedAdmin.name": "Título",
      "cannedAdmin.scope": "Visible para",
      "cannedAdmin.shared": "Todos (compartida)",
      "cannedAdmin.personal": "Solo yo (personal)",
      "cannedAdmin.content": "Texto",
      "cannedAdmin.variables": "Variables como {{ticket.number}}, {{user.name}} y {{agent.name}}; una desconocida se rechaza al guardar.",
      "cannedAdmin.none": "Aún no hay respuestas predefinidas.",
      "cannedAdmin.new": "Respuesta predefinida nueva",
      "cannedAdmin.editing": "Editar /{code}",
      "cannedAdmin.saved": "Respuesta predefinida /{code} guardada.",
      "articles.title": "Base de conocimiento",
      "articles.help": "Los artículos con los que responde el bot, en el idioma del ticket.",
      "articles.name": "Título",
      "articles.language": "Idioma",
      "articles.tags": "Etiquetas",
      "articles.tagsInput": "Etiquetas (separadas por comas)",
      "articles.body": "Texto",
      "articles.none": "Aún no hay artículos.",
      "articles.new": "Artículo nuevo",
      "articles.editing": "Editar el artículo {id}",
      "articles.saved": "Artículo guardado.",
      "rules.title": "Reglas",
      "rules.id": "Id",
      "rules.name": "Nombre",
      "rules.trigger": "Disparador",
      "rules.version": "Versión",
      "rules.enabled": "Activa",
      "rules.enabledOf": "Regla {name} activa",
      "rules.none": "Aún no hay reglas.",
      "rules.new": "Regla nueva",
      "rules.editing": "Editar la regla {id}",
      "rules.definition": "Regla (JSON)",
      "rules.help": "Nombre, disparador, condiciones y acciones como los describe docs/automation.md; el servidor comprueba la regla y cada guardado es una versión nueva.",
      "rules.badJson": "No es JSON válido: {message}",
      "rules.saved": "Regla {id} guardada: versión {version}.",
      "rules.triggerEvent": "Con {events}",
      "rules.triggerTime": "Tras {seconds} s",
      "dryRun.title": "Simulación",
      "dryRun.help": "Lo que habrían hecho las reglas entre dos fechas, repitiendo el registro de eventos; no se escribe nada.",
      "dryRun.rule": "Regla",
      "dryRun.all": "Todas las reglas",
      "dryRun.run": "Simular",
      "dryRun.at": "Cuándo",
      "dryRun.ticket": "Ticket",
      "dryRun.actions": "Acciones",
      "dryRun.dropped": "Retenidas por los límites",
      "dryRun.none": "Las reglas no habrían hecho nada en este intervalo.",
      "teams.availability": "Disponibilidad de los agentes",
      "teams.title": "Equipos",
      "teams.noAgents": "Aún no hay agentes.",
      "teams.none": "Aún no hay equipos.",
      "teams.newName": "Equipo nuevo (a-z 0-9 - _)",
      "teams.create": "Crear equipo",
      "teams.saved": "Guardado.",
      "teams.yes": "Sí",
      "teams.no": "No",
      "teams.on": "Activada",
      "teams.off": "Desactivada",
      "teams.statusOf": "Disponibilidad de {name}",
      "teams.autoOf": "Asignación automática de {name}",
      "availability.available": "Disponible",
      "availability.away": "Ausente",
      "availability.offline": "Desconectado",
      "col.agent": "Agente",
      "col.teams": "Equipos",
      "col.load": "Abiertos / capacidad",
      "col.availability": "Disponibilidad",
      "col.takes": "Recibe tickets",
      "col.team": "Equipo",
      "col.categories": "Categorías",
      "col.members": "Miembros",
      "col.waiting": "En espera",
      "col.autoAssign": "Asignación automática",
      "transfer.title": "Transferir",
      "transfer.to": "A",
      "transfer.agents": "Agentes",
      "transfer.teams": "Equipos",
      "transfer.reason": "Motivo",
      "transfer.note": "Nota",
      "transfer.force": "Aunque no esté disponible o esté lleno",
      "transfer.send": "Transferir",
      "transfer.done": "Ticket transferido.",
      "field.team": "equipo",
      "field.transfer_reason": "motivo de la transferencia",
      "field.transfer_note": "nota de la transferencia",
      "field.transfer_forced": "transferencia forzada",
      "nav.logout": "Cerrar sesión",
      "live.connecting": "Conectando…",
      "live.live": "En vivo",
      "live.polling": "En vivo (sondeo)",
      "live.offline": "Sin conexión",
      "filter.all": "Todos",
      "filter.any": "Cualquiera",
      "filter.unassigned": "Sin asignar",
      "filter.priority": "Prioridad",
      "filter.category": "Categoría",
      "filter.assignee": "Asignado a",
      "filter.search": "Buscar",
      "filter.tag": "Etiqueta",
      "col.sla": "SLA",
      "filter.sort": "Orden",
      "sort.newest": "Más recientes",
      "sort.due": "Vencimiento SLA",
      "sla.paused": "En pausa",
      "sla.left": "quedan {time}",
      "sla.over": "vencido hace {time}",
      "sla.met": "Cumplido",
      "sla.ticket": "SLA {policy}: {target} vence {due} · {left}",
      "sla.target.first_response": "primera respuesta",
      "sla.target.next_response": "siguiente respuesta",
      "sla.target.resolution": "resolución",
      "sla.breached": "incumplido: {targets}",
      "filter.apply": "Filtrar",
      "filter.reset": "Limpiar",
      "col.number": "Número",
      "col.subject": "Asunto",
      "col.status": "Estado",
      "col.priority": "Prioridad",
      "col.category": "Categoría",
      "col.assignee": "Asignado a",
      "col.updated": "Actualizado",
      "list.empty": "Ningún ticket coincide.",
      "list.unread": "{count} sin leer",
      "page.prev": "Anterior",
      "page.next": "Siguiente",
      "page.info": "Página {page} de {pages} · {total} tickets",
      "ticket.close": "Cerrar vista",
      "ticket.status": "Estado",
      "ticket.assignee": "Asignado a",
      "ticket.apply": "Aplicar",
      "ticket.current": "{label} (actual)",
      "ticket.closedNote": "Los tickets cerrados no cambian de estado ni admiten mensajes.",
      "ticket.meta": "Usuario #{user} · {priority} · {category} · abierto {created}",
      "ticket.updated": "Ticket actualizado.",
      "msg.user": "Usuario #{id}",
      "msg.admin": "Admin {name}",
      "msg.read": "Leído",
      "msg.sent": "Enviado",
      "msg.attachment": "Adjunto",
      "msg.older": "Cargar mensajes anteriores",
      "msg.loadingOlder": "Cargando mensajes anteriores…",
      "reply.placeholder": "Escribe una respuesta… (escribe / para las respuestas predefinidas)",
      "msg.automated": "Respuesta automática",
      "canned.suggestions": "Respuestas predefinidas",
      "reply.send": "Enviar",
      "note.label": "Nota interna (solo administradores)",
      "note.send": "Añadir nota",
      "note.badge": "Nota interna · {name}",
      "note.added": "Nota interna añadida.",
      "tags.title": "Etiquetas",
      "tags.none": "Sin etiquetas",
      "tags.add": "Añadir etiqueta",
      "tags.addButton": "Añadir",
      "tags.remove": "Quitar la etiqueta {tag}",
      "history.note": "{who} añadió una nota interna",
      "field.tags": "las etiquetas",
      "stats.byTag": "Por etiqueta (más usadas)",
      "reply.attach": "Adjuntar un archivo",
      "reply.uploading": "Subiendo {name}",
      "reply.attached": "Adjunto: {name}",
      "reply.removeAttachment": "Quitar el adjunto",
      "msg.enlarge": "Ampliar {name}",
      "msg.download": "Descargar {name} ({size} KB)",
      "viewer.close": "Cerrar",
      "history.title": "Registro de cambios",
      "history.empty": "Aún no hay cambios.",
      "history.entry": "{who} cambió {field}: {old} → {new}",
      "history.none": "ninguno",
      "push.title": "Notificaciones push",
      "push.empty": "No hay notificaciones push de este ticket.",
      "push.entry": "{event} a {who} (dispositivo {device}): {status}",
      "push.attempt": "intento {number}: {status}",
      "push.event.admin_reply": "Respuesta",
      "push.event.resolved": "Resuelto",
      "push.event.new_ticket": "Ticket nuevo",
      "push.event.user_reply": "Respuesta del usuario",
      "push.status.pending": "pendiente",
      "push.status.delivered": "entregada",
      "push.status.coalesced": "unida a una notificación posterior",
      "push.status.unregistered": "token ya no válido, dispositivo eliminado",
      "push.status.failed": "fallida",
      "push.status.skipped": "no enviada (dispositivo eliminado o reasignado)",
      "push.user": "usuario #{id}",
      "push.agent": "agente {name}",
      "who.admin": "el admin {name}",
      "who.user": "el usuario #{id}",
      "who.system": "el sistema",
      "field.status": "el estado",
      "field.assigned_to": "la asignación",
      "field.priority": "la prioridad",
      "field.rating": "la valoración",
      "field.merged_into": "fusionado en el ticket",
      "field.merged_from": "fusionó el ticket",
      "rating.shown": "Valorado {score}/5 por el usuario",
      "rating.comment": "Valorado {score}/5 por el usuario: “{comment}”",
      "merge.into": "Fusionar en el ticket (id o número)",
      "merge.submit": "Fusionar",
      "merge.done": "{source} fusionado en {target}.",
      "list.merged": "fusionado en #{id}",
      "toast.newTicket": "Nuevo ticket {number}: {subject}",
      "toast.newTicketNoSubject": "Nuevo ticket",
      "toast.error": "Error: {message}",
      "stats.total": "Tickets",
      "stats.unread": "Mensajes sin leer",
      "stats.byStatus": "Por estado",
      "stats.byPriority": "Por prioridad",
      "stats.byCategory": "Por categoría",
      "status.open": "Abierto",
      "status.in_progress": "En curso",
      "status.resolved": "Resuelto",
      "status.closed": "Cerrado",
      "priority.low": "Baja",
      "priority.medium": "Media",
      "priority.high": "Alta",
      "priority.urgent": "Urgente",
      "category.general": "General",
      "category.technical": "Técnica",
      "category.billing": "Facturación",
      "category.flight": "Vuelo",
      "category.order": "Pedido",
    },
  };

  var LANG = String(navigator.language || "en").toLowerCase().indexOf("es") === 0 ? "es" : "en";

  function t(key, vars) {
    var text = STRINGS[LANG][key];
    if (text === undefined) text = STRINGS.en[key] !== undefined ? STRINGS.en[key] : key;
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return vars && vars[name] !== undefined && vars[name] !== null ? String(vars[name]) : whole;
    });
  }

  var DATE_FORMAT = new Intl.DateTimeFormat(navigator.language || undefined, { dateStyle: "medium", timeStyle: "short" });

  function when(iso) {
    var date = new Date(iso);
    return isNaN(date.getTime()) ? "" : DATE_FORMAT.format(date);
  }

  // -- DOM helpers: text only ever goes in through textContent ---------------

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, options) {
    var node = document.createElement(tag);
    options = options || {};
    if (options.cls) node.className = options.cls;
    if (options.text !== undefined) node.textContent = options.text;
    if (options.attrs) {
      Object.keys(options.attrs).forEach(function (name) {
        node.setAttribute(name, options.attrs[name]);
      });
    }
    (options.children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  // A search result's highlight marks each matched word between \u0002 and
  // \u0003 (control characters stored text never holds). The pieces become
  // text nodes and <mark> elements: nothing of it is ever parsed as HTML.
  function highlighted(snippet) {
    var node = el("span", { cls: "ticket-highlight" });
    snippet.split("\u0002").forEach(function (piece, index) {
      var end = index === 0 ? -1 : piece.indexOf("\u0003");
      if (end >= 0) {
        node.appendChild(el("mark", { text: piece.slice(0, end) }));
        piece = piece.slice(end + 1);
      }
      if (piece) node.appendChild(document.createTextNode(piece.replace(/\u0003/g, "")));
    });
    return node;
  }

  function option(value, label, selected) {
    var node = el("option", { text: label });
    node.value = value;
    if (selected) node.selected = true;
    return node;
  }

  function safeUrl(value) {
    try {
      var url = new URL(value, window.location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function applyStrings() {
    document.documentElement.lang = LANG;
    document.title = t("app.title");
    document.querySelectorAll("[data-i18n]").forEach(function (node) {
      node.textContent = t(node.getAttribute("data-i18n"));
    });
    $("reply-text").placeholder = t("reply.placeholder");
    $("canned-suggestions").setAttribute("aria-label", t("canned.suggestions"));
  }

  // -- state ---------------------------------------------------------------

  var body = document.body;
  var state = {
    session: null,
    filters: { status: "", priority: "", category: "", assigned_to: "", tag: "", q: "", sort: "" },
    page: 1,
    perPage: 25,
    total: 0,
    ticket: null,
    // The ticket the admin navigated to last: a slower answer for another one (a refresh that was
    // in flight when the admin moved on) is dropped instead of replacing the view.
    wantedTicketId: null,
    lastMessageId: 0,
    // The thread is paged from the newest: the oldest message shown, and whether older ones exist.
    firstMessageId: 0,
    hasMoreBefore: false,
    loadingOlder: false,
    newestTicketId: 0,
    lastStats: null,
    live: "connecting",
    pollTimer: null,
    // The teams feature's agents and teams, once its routes answered (null: not mounted).
    teams: null,
    // The automation feature's acknowledgement settings, canned responses and calendars (null: not mounted).
    automation: null,
  };

  function ApiError(status, error) {
    this.status = status;
    this.code = (error && error.code) || "http_" + status;
    this.message = (error && error.message) || "HTTP " + status;
    // For an invalid field (422): {field, allowed}; the automation editors show the message beside it.
    this.details = (error && error.details) || null;
  }

  function request(method, url, payload) {
    var headers = { Accept: "application/json" };
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && state.session && state.session.csrf_token) {
      headers[state.session.csrf_header] = state.session.csrf_token;
    }
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      cache: "no-store",
      headers: headers,
      body: payload === undefined ? undefined : JSON.stringify(payload),
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return null;
        })
        .then(function (json) {
          if (!response.ok || !json || json.success !== true) {
            if (response.status === 401 && state.session) signedOut();
            throw new ApiError(response.status, json && json.error);
          }
          return json;
        });
    });
  }

  // The session ended (expired, revoked): reload once so the server shows the login view, but never
  // loop if the page and the API disagree about who is signed in.
  function signedOut() {
    var last = Number(window.sessionStorage.getItem("supportchat-reload") || 0);
    if (Date.now() - last > 30000) {
      window.sessionStorage.setItem("supportchat-reload", String(Date.now()));
      window.location.reload();
    } else {
      setLive("offline");
    }
  }

  function api(method, path, payload) {
    return request(method, state.session.api + path, payload);
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (key) {
      if (params[key] !== "" && params[key] !== null && params[key] !== undefined) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(params[key]));
      }
    });
    return parts.length ? "?" + parts.join("&") : "";
  }

  function toast(text, onClick, kind) {
    var node = el("div", { cls: "toast" + (kind ? " toast-" + kind : ""), text: text, attrs: { role: "status" } });
    if (onClick) {
      node.classList.add("clickable");
      node.addEventListener("click", function () {
        onClick();
        node.remove();
      });
    }
    $("toasts").appendChild(node);
    window.setTimeout(function () {
      node.remove();
    }, 10000);
    return node;
  }

  function showError(error) {
    toast(t("toast.error", { message: error && error.message ? error.message : String(error) }), null, "error");
  }

  function label(kind, value) {
    // Tags are the admins' own words: shown as they are, never looked up.
    return kind === "tag" ? value : t(kind + "." + value);
  }

  function adminName(id) {
    if (id === null || id === undefined) return t("filter.unassigned");
    var admin = (state.session.admins || []).find(function (a) {
      return a.id === id;
    });
    return admin && admin.name ? admin.name : "#" + id;
  }

  // -- the ticket list -------------------------------------------------------

  function fillChoices(select, values, kind, anyLabel) {
    select.replaceChildren(option("", anyLabel));
    values.forEach(function (value) {
      select.appendChild(option(value, label(kind, value)));
    });
  }

  function fillAssignees(select, first) {
    select.replaceChildren();
    first.forEach(function (pair) {
      select.appendChild(option(pair[0], pair[1]));
    });
    (state.session.admins || []).forEach(function (admin) {
      select.appendChild(option(String(admin.id), admin.name || "#" + admin.id));
    });
  }

  function renderStatusTabs(stats) {
    var tabs = $("status-tabs");
    tabs.replaceChildren();
    var entries = [["", t("filter.all"), stats ? stats.total_tickets : null]];
    state.session.statuses.forEach(function (status) {
      entries.push([status, label("status", status), stats ? stats.by_status[status] : null]);
    });
    entries.forEach(function (entry) {
      var button = el("button", {
        cls: "status-tab" + (state.filters.status === entry[0] ? " active" : ""),
        attrs: { type: "button", role: "tab", "data-status": entry[0] || "all" },
        children: [el("span", { text: entry[1] }), el("span", { cls: "count", text: entry[2] === null ? "" : String(entry[2]) })],
      });
      button.addEventListener("click", function () {
        state.filters.status = entry[0];
        state.page = 1;
        renderStatusTabs(state.lastStats);
        loadTickets();
      });
      tabs.appendChild(button);
    });
  }

  function pill(kind, value) {
    return el("span", { cls: "pill " + kind + "-" + value, text: label(kind, value) });
  }

  // -- SLA: the nearest unmet deadline of a ticket's ``sla`` (null: under no policy) --

  var SLA_TARGETS = ["first_response", "next_response", "resolution"];

  function slaNext(sla) {
    var next = null;
    SLA_TARGETS.forEach(function (target) {
      var due = sla[target + "_due"];
      if (!due || sla.met.indexOf(target) >= 0) return;
      if (!next || new Date(due) < new Date(next.due)) next = { target: target, due: due };
    });
    return next;
  }

  function span(seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    if (days) return days + "d " + hours + "h";
    return hours ? hours + "h " + String(minutes % 60).padStart(2, "0") + "m" : (minutes % 60) + "m";
  }

  // Text and colour of an SLA countdown: breached (red), warned or under an hour (amber), running (green).
  function slaState(sla) {
    if (sla.paused) return { cls: "sla-paused", text: t("sla.paused") };
    var next = slaNext(sla);
    if (!next) return { cls: "sla-met", text: sla.breached.length ? "—" : t("sla.met") };
    var left = (new Date(next.due).getTime() - Date.now()) / 1000;
    var text = left < 0 ? t("sla.over", { time: span(left) }) : t("sla.left", { time: span(left) });
    var cls = left < 0 || sla.breached.indexOf(next.target) >= 0 ? "sla-breached"
      : sla.warned.indexOf(next.target) >= 0 || left < 3600 ? "sla-warning" : "sla-ok";
    return { cls: cls, text: text, next: next };
  }

  function slaCell(sla) {
    var cell = el("td", { cls: "sla-cell" });
    if (!sla) {
      cell.textContent = "—";
      return cell;
    }
    var shown = slaState(sla);
    var node = el("span", { cls: "pill sla " + shown.cls, text: shown.text });
    if (shown.next) node.setAttribute("title", t("sla.target." + shown.next.target) + " · " + when(shown.next.due));
    cell.appendChild(node);
    cell.slaData = sla;
    return cell;
  }

  function renderTicketSla(ticket) {
    var line = $("ticket-sla");
    var sla = ticket.sla;
    line.hidden = !sla;
    if (!sla) return;
    var shown = slaState(sla);
    var text = shown.next ? t("sla.ticket", {
      policy: sla.policy || "—", target: t("sla.target." + shown.next.target), due: when(shown.next.due), left: shown.text,
    }) : "SLA " + (sla.policy || "—") + ": " + shown.text;
    if (sla.breached.length) {
      text += " · " + t("sla.breached", { targets: sla.breached.map(function (x) { return t("sla.target." + x); }).join(", ") });
    }
    line.textContent = text;
    line.className = "ticket-sla " + shown.cls;
  }

  // Countdowns move on their own between refreshes.
  window.setInterval(function () {
    document.querySelectorAll("#ticket-rows .sla-cell").forEach(function (cell) {
      if (cell.slaData) cell.replaceWith(slaCell(cell.slaData));
    });
    if (state.ticket) renderTicketSla(state.ticket);
  }, 30000);

  function renderTickets(tickets) {
    var rows = $("ticket-rows");
    rows.replaceChildren();
    tickets.forEach(function (ticket) {
      var subject = el("td", {
        cls: "subject-cell",
        children: [el("span", { cls: "ticket-subject", text: ticket.subject })],
      });
      if (ticket.highlight) subject.appendChild(highlighted(ticket.highlight));
      if (ticket.tags && ticket.tags.length) {
        subject.appendChild(
          el("span", {
            cls: "row-tags",
            children: ticket.tags.map(function (tag) { return el("span", { cls: "tag-chip", text: tag }); }),
          })
        );
      }
      if (ticket.merged_into !== null && ticket.merged_into !== undefined) {
        subject.appendChild(el("span", { cls: "merged-note", text: t("list.merged", { id: ticket.merged_into }) }));
      }
      if (ticket.unread_count > 0) {
        subject.appendChild(
          el("span", {
            cls: "badge",
            text: String(ticket.unread_count),
            attrs: { title: t("list.unread", { count: ticket.unread_count }) },
          })
        );
      }
      var row = el("tr", {
        cls: state.ticket && state.ticket.id === ticket.id ? "selected" : "",
        attrs: { "data-ticket-id": String(ticket.id), tabindex: "0" },
        children: [
          el("td", { cls: "mono", text: ticket.ticket_number }),
          subject,
          el("td", { children: [pill("status", ticket.status)] }),
          el("td", { children: [pill("priority", ticket.priority)] }),
          el("td", { text: label("category", ticket.category) }),
          el("td", { text: ticket.assigned_to === null ? "—" : adminName(ticket.assigned_to) }),
          slaCell(ticket.sla),
          el("td", { cls: "time", text: when(ticket.updated_at) }),
        ],
      });
      row.addEventListener("click", function () {
        window.location.hash = "#/tickets/" + ticket.id;
      });
      row.addEventListener("keydown", function (event) {
        if (event.key === "Enter") window.location.hash = "#/tickets/" + ticket.id;
      });
      rows.appendChild(row);
    });
    $("list-empty").hidden = tickets.length > 0;
  }

  function renderPager() {
    var pages = Math.max(1, Math.ceil(state.total / state.perPage));
    $("page-info").textContent = t("page.info", { page: state.page, pages: pages, total: state.total });
    $("page-prev").disabled = state.page <= 1;
    $("page-next").disabled = state.page >= pages;
  }

  var listRequest = 0;

  function loadTickets() {
    var mine = ++listRequest;
    var params = Object.assign({}, state.filters, { page: state.page, per_page: state.perPage });
    return api("GET", "/tickets" + query(params))
      .then(function (json) {
        if (mine !== listRequest) return;
        state.total = json.meta.total;
        renderTickets(json.data);
        renderPager();
        body.setAttribute("data-list-loaded", String(mine));
      })
      .catch(showError);
  }

  function readFilters() {
    state.filters.priority = $("filter-priority").value;
    state.filters.category = $("filter-category").value;
    state.filters.assigned_to = $("filter-assignee").value;
    state.filters.tag = $("filter-tag").value.trim();
    state.filters.q = $("filter-q").value.trim();
    state.filters.sort = $("filter-sort").value;
    state.page = 1;
  }

  // -- statistics ------------------------------------------------------------

  var SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (name) {
      node.setAttribute(name, String(attrs[name]));
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function barChart(target, kind, counts, order) {
    var chart = $(target);
    var rowHeight = 30;
    var max = Math.max.apply(null, order.map(function (k) { return counts[k] || 0; }).concat([1]));
    chart.replaceChildren();
    chart.setAttribute("viewBox", "0 0 320 " + order.length * rowHeight);
    // A screen reader reads the chart as its caption and every bar's count.
    var caption = chart.closest("figure").querySelector("figcaption").textContent;
    var summary = order.map(function (key) { return label(kind, key) + ": " + (counts[key] || 0); });
    chart.appendChild(svg("title", {}, caption + " — " + summary.join(", ")));
    order.forEach(function (key, index) {
      var value = counts[key] || 0;
      var y = index * rowHeight;
      chart.appendChild(svg("text", { x: 0, y: y + 19, class: "chart-label" }, label(kind, key)));
      chart.appendChild(svg("rect", { x: 100, y: y + 6, height: 18, rx: 3, width: Math.max(1, (value / max) * 180), class: "bar " + kind + "-" + key }));
      chart.appendChild(svg("text", { x: 104 + Math.max(1, (value / max) * 180), y: y + 19, class: "chart-value" }, String(value)));
    });
  }

  function renderStats(stats) {
    var cards = $("stat-cards");
    cards.replaceChildren();
    var entries = [["total", t("stats.total"), stats.total_tickets]];
    state.session.statuses.forEach(function (status) {
      entries.push([status, label("status", status), stats.by_status[status]]);
    });
    entries.push(["unread", t("stats.unread"), stats.unread_messages]);
    entries.forEach(function (entry) {
      cards.appendChild(
        el("div", {
          cls: "card stat stat-" + entry[0],
          attrs: { "data-stat": entry[0] },
          children: [el("span", { cls: "stat-value", text: String(entry[2]) }), el("span", { cls: "stat-label", text: entry[1] })],
        })
      );
    });
    barChart("chart-status", "status", stats.by_status, state.session.statuses);
    barChart("chart-priority", "priority", stats.by_priority, state.session.priorities);
    barChart("chart-category", "category", stats.by_category, state.session.categories);
    var tags = Object.keys(stats.by_tag || {});
    $("tag-chart").hidden = tags.length === 0;
    if (tags.length) {
      tags.sort(function (a, b) { return stats.by_tag[b] - stats.by_tag[a] || (a < b ? -1 : 1); });
      barChart("chart-tag", "tag", stats.by_tag, tags.slice(0, 10));
    }
    renderTagChoices(tags);
  }

  // Every tag in use, offered when typing one (filter and ticket alike).
  function renderTagChoices(tags) {
    $("tag-choices").replaceChildren.apply($("tag-choices"), tags.map(function (tag) { return option(tag, tag); }));
  }

  function loadStats() {
    return api("GET", "/statistics")
      .then(function (json) {
        var changed = JSON.stringify(json.data) !== JSON.stringify(state.lastStats);
        state.lastStats = json.data;
        renderStatusTabs(json.data);
        renderStats(json.data);
        return changed;
      })
      .catch(function (error) {
        showError(error);
        return false;
      });
  }

  // -- one ticket ------------------------------------------------------------

  function renderMessage(message) {
    var own = message.sender_type === "admin";
    var who = own ? t("msg.admin", { name: adminName(message.sender_id) }) : t("msg.user", { id: message.sender_id });
    var meta = [el("span", { cls: "msg-sender", text: who }), el("time", { cls: "msg-time", text: when(message.created_at), attrs: { datetime: message.created_at } })];
    if (message.automated) meta.push(el("span", { cls: "msg-automated", text: t("msg.automated") }));
    if (own) meta.push(el("span", { cls: "msg-read" + (message.is_read ? " is-read" : ""), text: message.is_read ? "✓✓ " + t("msg.read") : "✓ " + t("msg.sent") }));
    var children = [el("div", { cls: "msg-text", text: message.message })];
    var href = message.file_url ? safeUrl(message.file_url) : null;
    if (message.attachment) {
      children.push(renderAttachment(message.attachment));
    } else if (message.file_url) {
      var link = el("a", { cls: "msg-file", text: message.file_url });
      if (href) {
        link.href = href;
        link.rel = "noopener noreferrer";
        link.target = "_blank";
      }
      children.push(el("div", { cls: "msg-attachment", children: [el("span", { text: t("msg.attachment") + ": " }), link] }));
    }
    children.push(el("div", { cls: "msg-meta", children: meta }));
    return el("li", {
      cls: "msg " + (own ? "msg-admin" : "msg-user"),
      attrs: { "data-message-id": String(message.id) },
      children: children,
    });
  }

  // An upload the message cites (the attachments feature): an image's thumbnail, which enlarges in a
  // dialog, or a document's download link. Its URLs are signed for this admin and come with every read.
  function renderAttachment(attachment) {
    var url = safeUrl(attachment.url);
    if (attachment.kind === "image" && url) {
      var thumb = safeUrl(attachment.thumbnail_url || attachment.url) || url;
      var button = el("button", {
        cls: "msg-thumb",
        attrs: { type: "button", "aria-label": t("msg.enlarge", { name: attachment.filename }) },
        children: [el("img", { attrs: { src: thumb, alt: attachment.filename, loading: "lazy" } })],
      });
      button.addEventListener("click", function () {
        showImage(url, attachment.filename);
      });
      return el("div", { cls: "msg-attachment", children: [button] });
    }
    var link = el("a", {
      cls: "msg-file",
      text: t("msg.download", { name: attachment.filename, size: Math.max(1, Math.ceil(attachment.size / 1024)) }),
    });
    if (url) {
      link.href = url;
      link.rel = "noopener noreferrer";
      link.setAttribute("download", attachment.filename);
    }
    return el("div", { cls: "msg-attachment", children: [link] });
  }

  function showImage(url, name) {
    var viewer = $("image-viewer");
    var image = $("image-viewer-img");
    image.src = url;
    image.alt = name;
    viewer.setAttribute("aria-label", name);
    if (typeof viewer.showModal === "function") viewer.showModal();
    else viewer.setAttribute("open", "");
  }

  // -- uploads (shown when the API has the attachments routes) -------------------

  function uploadFile(file) {
    if (!state.ticket || !file) return;
    var id = state.ticket.id;
    var form = new FormData();
    form.append("file", file, file.name || "pasted.png");
    var progress = $("reply-progress");
    var label = $("reply-attachment");
    progress.value = 0;
    progress.hidden = false;
    progress.setAttribute("aria-label", t("reply.uploading", { name: file.name || "" }));
    label.textContent = t("reply.uploading", { name: file.name || "" });
    $("reply-attachment-box").hidden = false;
    $("reply-send").disabled = true;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", state.session.api + "/tickets/" + id + "/attachments");
    xhr.setRequestHeader("Accept", "application/json");
    if (state.session.csrf_token) xhr.setRequestHeader(state.session.csrf_header, state.session.csrf_token);
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) progress.value = Math.round((event.loaded / event.total) * 100);
    });
    xhr.addEventListener("loadend", function () {
      progress.hidden = true;
      $("reply-send").disabled = state.ticket !== null && state.ticket.status === "closed";
      var json = null;
      try {
        json = JSON.parse(xhr.responseText);
      } catch (e) {
        json = null;
      }
      if (xhr.status === 200 && json && json.success) {
        state.attachment = json.data;
        label.textContent = t("reply.attached", { name: json.data.filename });
        $("reply-attachment-remove").hidden = false;
      } else {
        clearAttachment();
        showError(new ApiError(xhr.status, json && json.error));
      }
    });
    xhr.send(form);
  }

  function clearAttachment() {
    state.attachment = null;
    $("reply-attachment-box").hidden = true;
    $("reply-attachment-remove").hidden = true;
    $("reply-file").value = "";
  }

  function wireUploads() {
    // The API's own document says whether the attachments routes are mounted (it is not an envelope).
    fetch(state.session.api + "/openapi.json", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (document_) {
      var paths = Object.keys((document_ && document_.paths) || {});
      var enabled = paths.some(function (path) {
        return /\/tickets\/\{ticket_id\}\/attachments$/.test(path);
      });
      $("reply-attach").hidden = !enabled;
      if (!enabled) return;
      $("reply-file").addEventListener("change", function () {
        if ($("reply-file").files.length) uploadFile($("reply-file").files[0]);
      });
      $("reply-attachment-remove").addEventListener("click", clearAttachment);
      var form = $("reply-form");
      form.addEventListener("dragover", function (event) {
        event.preventDefault();
        form.classList.add("dropping");
      });
      form.addEventListener("dragleave", function () {
        form.classList.remove("dropping");
      });
      form.addEventListener("drop", function (event) {
        event.preventDefault();
        form.classList.remove("dropping");
        if (event.dataTransfer && event.dataTransfer.files.length) uploadFile(event.dataTransfer.files[0]);
      });
      $("reply-text").addEventListener("paste", function (event) {
        var items = (event.clipboardData && event.clipboardData.files) || [];
        if (items.length) {
          event.preventDefault();
          uploadFile(items[0]);
        }
      });
    }, function () {
      $("reply-attach").hidden = true;
    });
    $("image-viewer-close").addEventListener("click", function () {
      $("image-viewer").close();
    });
  }

  // -- canned responses: "/code" in the reply box offers matches; choosing one expands it for the ticket --

  var canned = { list: null, shown: [] };

  function loadCanned() {
    // The automation feature may not be mounted: then there is simply nothing to offer.
    if (canned.list !== null) return Promise.resolve(canned.list);
    return api("GET", "/canned-responses").then(
      function (json) { canned.list = json.data; return canned.list; },
      function () { canned.list = []; return canned.list; }
    );
  }

  function cannedShown() {
    return canned.shown;
  }

  function showCanned(matches) {
    canned.shown = matches;
    var box = $("canned-suggestions");
    box.replaceChildren();
    matches.forEach(function (item) {
      var option = el("li", {
        cls: "canned-option",
        attrs: { role: "option", "data-canned-id": String(item.id) },
        children: [el("span", { cls: "canned-code", text: "/" + item.short_code }), el("span", { text: " " + item.title })],
      });
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();
        expandCanned(item);
      });
      box.appendChild(option);
    });
    box.hidden = matches.length === 0;
  }

  function suggestCanned() {
    var typed = /^\/([a-z0-9_-]*)$/.exec($("reply-text").value.trim().toLowerCase());
    if (!typed) return showCanned([]);
    loadCanned().then(function (list) {
      var again = /^\/([a-z0-9_-]*)$/.exec($("reply-text").value.trim().toLowerCase());
      if (!again) return showCanned([]);
      showCanned(list.filter(function (item) { return item.short_code.indexOf(again[1]) === 0; }).slice(0, 8));
    });
  }

  function expandCanned(item) {
    if (!state.ticket) return;
    showCanned([]);
    api("GET", "/tickets/" + state.ticket.id + "/canned-responses/" + item.id).then(function (json) {
      $("reply-text").value = json.data.content;
      $("reply-text").focus();
    }, showError);
  }

  function appendMessages(messages) {
    var list = $("messages");
    var added = false;
    messages.forEach(function (message) {
      if (list.querySelector('[data-message-id="' + Number(message.id) + '"]')) return;
      list.appendChild(renderMessage(message));
      state.lastMessageId = Math.max(state.lastMessageId, message.id);
      added = true;
    });
    if (added) list.scrollTop = list.scrollHeight;
    return added;
  }

  function prependMessages(messages) {
    var list = $("messages");
    // Keep the messages the admin is reading where they are while older ones go in above them.
    var fromBottom = list.scrollHeight - list.scrollTop;
    var first = list.firstChild;
    messages.forEach(function (message) {
      if (list.querySelector('[data-message-id="' + Number(message.id) + '"]')) return;
      list.insertBefore(renderMessage(message), first);
    });
    list.scrollTop = list.scrollHeight - fromBottom;
  }

  function setOlder(hasMore, messages) {
    if (messages.length) state.firstMessageId = messages[0].id;
    state.hasMoreBefore = hasMore;
    var button = $("messages-older");
    button.hidden = !hasMore;
    button.disabled = false;
    button.textContent = t("msg.older");
  }

  function loadOlder() {
    if (!state.ticket || !state.hasMoreBefore || state.loadingOlder) return Promise.resolve();
    var id = state.ticket.id;
    var button = $("messages-older");
    state.loadingOlder = true;
    button.disabled = true;
    button.textContent = t("msg.loadingOlder");
    $("messages").setAttribute("aria-busy", "true");
    return api("GET", "/tickets/" + id + query({ before_id: state.firstMessageId }))
      .then(function (json) {
        if (!state.ticket || state.ticket.id !== id) return;
        prependMessages(json.data.messages);
        setOlder(json.data.has_more_before, json.data.messages);
      })
      .catch(function (error) {
        button.disabled = false;
        button.textContent = t("msg.older");
        showError(error);
      })
      .then(function () {
        state.loadingOlder = false;
        $("messages").removeAttribute("aria-busy");
      });
  }

  // -- internal notes and tags: staff's own, shown apart from the conversation's replies --

  function renderNote(note) {
    var who = note.author_kind === "admin" ? adminName(note.author_id) : t("who.system");
    return el("li", {
      cls: "msg msg-note",
      attrs: { "data-note-id": String(note.id), "data-created-at": note.created_at },
      children: [
        el("div", { cls: "note-label", text: t("note.badge", { name: who }) }),
        el("div", { cls: "msg-text", text: note.note }),
        el("div", {
          cls: "msg-meta",
          children: [el("time", { cls: "msg-time", text: when(note.created_at), attrs: { datetime: note.created_at } })],
        }),
      ],
    });
  }

  // Each note goes where it was written among the messages shown (by time), once.
  function placeNotes(notes) {
    var list = $("messages");
    (notes || []).forEach(function (note) {
      if (list.querySelector('[data-note-id="' + Number(note.id) + '"]')) return;
      var at = new Date(note.created_at).getTime();
      var after = Array.prototype.find.call(list.children, function (node) {
        var time = node.querySelector("time");
        return time && new Date(time.getAttribute("datetime")).getTime() > at;
      });
      list.insertBefore(renderNote(note), after || null);
    });
  }

  function renderTags(tags) {
    var list = $("tag-list");
    list.replaceChildren();
    if (!tags || !tags.length) list.appendChild(el("li", { cls: "muted", text: t("tags.none") }));
    (tags || []).forEach(function (tag) {
      var remove = el("button", { text: "×", attrs: { type: "button", "aria-label": t("tags.remove", { tag: tag }) } });
      remove.addEventListener("click", function () {
        if (!state.ticket) return;
        var id = state.ticket.id;
        api("DELETE", "/tickets/" + id + "/tags/" + encodeURIComponent(tag))
          .then(function (json) {
            if (state.ticket && state.ticket.id === id) renderTags(json.data.tags);
            refreshSoon();
          })
          .catch(showError);
      });
      list.appendChild(el("li", { cls: "tag-chip", attrs: { "data-tag": tag }, children: [el("span", { text: tag }), remove] }));
    });
  }

  function renderControls(ticket) {
    var status = $("ticket-status");
    status.replaceChildren(option(ticket.status, t("ticket.current", { label: label("status", ticket.status) }), true));
    (state.session.transitions[ticket.status] || []).forEach(function (next) {
      status.appendChild(option(next, label("status", next)));
    });
    var assignee = $("ticket-assignee");
    fillAssignees(assignee, [["", t("filter.unassigned")]]);
    if (ticket.assigned_to !== null && !assignee.querySelector('option[value="' + Number(ticket.assigned_to) + '"]')) {
      assignee.appendChild(option(String(ticket.assigned_to), "#" + ticket.assigned_to));
    }
    assignee.value = ticket.assigned_to === null ? "" : String(ticket.assigned_to);
    var closed = ticket.status === "closed";
    status.disabled = closed;
    $("ticket-closed-note").hidden = !closed;
    $("reply-text").disabled = closed;
    $("reply-send").disabled = closed;
    // A closed ticket can still be merged into another; nothing can be merged into it (spec §12).
    $("merge-form").hidden = ticket.merged_into !== null && ticket.merged_into !== undefined;
  }

  function renderRating(ticket) {
    var node = $("ticket-rating");
    var rating = ticket.rating;
    node.hidden = !rating;
    if (!rating) return node.replaceChildren();
    node.textContent = rating.comment
      ? t("rating.comment", { score: rating.score, comment: rating.comment })
      : t("rating.shown", { score: rating.score });
  }

  function renderTicket(ticket) {
    var previous = state.ticket;
    state.ticket = ticket;
    $("ticket-view").hidden = false;
    $("ticket-view").setAttribute("data-ticket-id", String(ticket.id));
    $("ticket-number").textContent = ticket.ticket_number;
    $("ticket-subject").textContent = ticket.subject;
    $("ticket-meta").textContent = t("ticket.meta", {
      user: ticket.user_id,
      priority: label("priority", ticket.priority),
      category: label("category", ticket.category),
      created: when(ticket.created_at),
    });
    $("ticket-description").textContent = ticket.description;
    renderTags(ticket.tags);
    renderRating(ticket);
    renderTicketSla(ticket);
    // Refreshes (new messages, read receipts) must not undo a choice the admin is making in the controls.
    var changed = !previous || previous.id !== ticket.id || previous.status !== ticket.status ||
      previous.assigned_to !== ticket.assigned_to;
    if (changed) renderControls(ticket);
    renderTransfer(ticket);
    document.querySelectorAll("#ticket-rows tr").forEach(function (row) {
      row.classList.toggle("selected", row.getAttribute("data-ticket-id") === String(ticket.id));
    });
  }

  function whoChanged(change) {
    if (change.changed_by_kind === "admin") return t("who.admin", { name: adminName(change.changed_by) });
    if (change.changed_by_kind === "user") return t("who.user", { id: change.changed_by });
    return t("who.system");
  }

  function changeValue(field, value) {
    if (field === "tags") return value ? value.split(" ").join(", ") : t("tags.none");
    if ((value === null || value === undefined) && field === "assigned_to") return t("filter.unassigned");
    if (value === null || value === undefined) return t("history.none");
    if (field === "status" || field === "priority") return label(field, value);
    if (field === "assigned_to") return adminName(Number(value));
    return value;
  }

  function renderHistory(changes) {
    var list = $("history-list");
    list.replaceChildren();
    if (!changes.length) list.appendChild(el("li", { cls: "muted", text: t("history.empty") }));
    changes.forEach(function (change) {
      list.appendChild(
        el("li", {
          attrs: { "data-field": change.field },
          children: [
            el("time", { cls: "time", text: when(change.changed_at) + " — " }),
            el("span", {
              text: change.field === "note"
                ? t("history.note", { who: whoChanged(change) })
                : t("history.entry", {
                  who: whoChanged(change),
                  field: t("field." + change.field),
                  old: changeValue(change.field, change.old_value),
                  new: changeValue(change.field, change.new_value),
                }),
            }),
          ],
        })
      );
    });
  }

  function pushAttempt(attempt) {
    var status = t("push.status." + attempt.status);
    if (attempt.error_class) {
      status = attempt.error_class + (attempt.http_status ? " (HTTP " + attempt.http_status + ")" : "") +
        (attempt.status === "pending" ? " — " + t("push.status.pending") : "");
    }
    return el("li", {
      children: [
        el("time", { cls: "time", text: when(attempt.at) + " — " }),
        el("span", { text: t("push.attempt", { number: attempt.number, status: status }) }),
      ],
    });
  }

  function renderPush(deliveries) {
    var list = $("push-list");
    list.replaceChildren();
    $("push").hidden = false;
    if (!deliveries.length) list.appendChild(el("li", { cls: "muted", text: t("push.empty") }));
    deliveries.forEach(function (delivery) {
      var who = delivery.recipient_kind === "agent"
        ? t("push.agent", { name: adminName(delivery.recipient_id) })
        : t("push.user", { id: delivery.recipient_id });
      list.appendChild(
        el("li", {
          attrs: { "data-delivery-status": delivery.status },
          children: [
            el("time", { cls: "time", text: when(delivery.created_at) + " — " }),
            el("span", {
              text: t("push.entry", {
                event: t("push.event." + delivery.event),
                who: who,
                device: delivery.device,
                status: t("push.status." + delivery.status),
              }),
            }),
            el("ol", { children: delivery.attempts.map(pushAttempt) }),
          ],
        })
      );
    });
  }

  function loadPush(id) {
    // Only when the push feature is mounted; without it the route is a 404 and the section stays hidden.
    return api("GET", "/tickets/" + id + "/push")
      .then(function (json) {
        if (state.ticket && state.ticket.id === id) renderPush(json.data);
      })
      .catch(function () {
        $("push").hidden = true;
      });
  }

  function loadHistory(id) {
    return api("GET", "/tickets/" + id + "/history").then(function (json) {
      if (state.ticket && state.ticket.id === id) renderHistory(json.data);
    });
  }

  function openTicket(id, navigated) {
    if (navigated) state.wantedTicketId = id;
    return api("GET", "/tickets/" + id)
      .then(function (json) {
        if (id !== state.wantedTicketId) return;
        // A merged ticket answers with the ticket it was merged into: that is the one on screen now.
        state.wantedTicketId = json.data.id;
        var fresh = !state.ticket || state.ticket.id !== json.data.id;
        if (fresh) {
          $("messages").replaceChildren();
          state.lastMessageId = 0;
          setOlder(json.data.has_more_before, json.data.messages);
        }
        renderTicket(json.data);
        // Opening marked the user's messages read: the row's unread badge goes at once.
        var badge = document.querySelector('#ticket-rows tr[data-ticket-id="' + Number(json.data.id) + '"] .badge');
        if (badge) {
          badge.remove();
          refreshSoon();
        }
        appendMessages(json.data.messages);
        placeNotes(json.data.notes);
        refreshReadState(json.data.messages);
        body.setAttribute("data-ticket-loaded", String(json.data.id));
        return Promise.all([loadHistory(json.data.id), loadPush(json.data.id)]);
      })
      .catch(showError);
  }

  function refreshReadState(messages) {
    messages.forEach(function (message) {
      var node = $("messages").querySelector('[data-message-id="' + Number(message.id) + '"]');
      if (node) node.replaceWith(renderMessage(message));
    });
    // The user reads the whole thread at once (spec §5): admin messages above this page, loaded
    // earlier, are read if any admin message on it is.
    var read = messages.filter(function (m) { return m.sender_type === "admin" && m.is_read; });
    if (!read.length) return;
    var upTo = read[read.length - 1].id;
    $("messages").querySelectorAll(".msg-admin .msg-read:not(.is-read)").forEach(function (mark) {
      var id = Number(mark.closest(".msg").getAttribute("data-message-id"));
      if (id < upTo) {
        mark.classList.add("is-read");
        mark.textContent = "✓✓ " + t("msg.read");
      }
    });
  }

  function closeTicket() {
    state.ticket = null;
    state.wantedTicketId = null;
    $("ticket-view").hidden = true;
    $("ticket-view").removeAttribute("data-ticket-id");
  }

  function fetchNewMessages() {
    if (!state.ticket) return Promise.resolve();
    var id = state.ticket.id;
    return api("GET", "/tickets/" + id + "/messages?after_id=" + state.lastMessageId).then(function (json) {
      if (!state.ticket || state.ticket.id !== id) return;
      appendMessages(json.data);
      // A user wrote while the admin is looking: reopening marks it read (and refreshes status and read marks).
      if (json.data.some(function (m) { return m.sender_type === "user"; })) return openTicket(id);
    });
  }

  // -- live updates: the admin event stream, or polling without it -----------

  function setLive(mode) {
    state.live = mode;
    var node = $("live-state");
    node.setAttribute("data-state", mode);
    node.textContent = t("live." + mode);
  }

  var refreshTimer = null;

  function refreshSoon() {
    if (refreshTimer) return;
    refreshTimer = window.setTimeout(function () {
      refreshTimer = null;
      loadTickets();
      loadStats();
    }, 250);
  }

  function notifyNewTicket(ticket) {
    var text = ticket && ticket.ticket_number
      ? t("toast.newTicket", { number: ticket.ticket_number, subject: ticket.subject || "" })
      : t("toast.newTicketNoSubject");
    var node = toast(text, function () {
      if (ticket && ticket.id) window.location.hash = "#/tickets/" + ticket.id;
    }, "new-ticket");
    node.setAttribute("data-ticket-id", ticket && ticket.id ? String(ticket.id) : "");
  }

  function ticketOf(data) {
    if (!data) return {};
    if (data.ticket && typeof data.ticket === "object") return data.ticket;
    return data;
  }

  function onEvent(type, data) {
    var ticket = ticketOf(data);
    var ticketId = Number(data && (data.ticket_id || (data.ticket && data.ticket.id) || data.id));
    if (type === "ticket_created") {
      state.newestTicketId = Math.max(state.newestTicketId, ticketId || 0);
      if (ticket.ticket_number) notifyNewTicket(ticket);
      else if (ticketId) api("GET", "/tickets" + query({ per_page: 1 })).then(function (json) {
        notifyNewTicket(json.data[0]);
      });
    }
    if (state.ticket && ticketId === state.ticket.id) {
      if (type === "message_created") fetchNewMessages();
      else openTicket(ticketId);
    }
    refreshSoon();
  }

  function parseData(raw) {
    try {
      return JSON.parse(raw);
    } catch (e) {
      return null;
    }
  }

  function startStream() {
    if (!window.EventSource) return startPolling();
    var stream = new EventSource(state.session.events, { withCredentials: true });
    stream.onopen = function () {
      stopPolling();
      setLive("live");
    };
    ["ticket_created", "message_created", "ticket_updated", "note_created", "tags_changed"].forEach(function (type) {
      stream.addEventListener(type, function (event) {
        onEvent(type, parseData(event.data));
      });
    });
    stream.onerror = function () {
      // CLOSED means the server refused the stream (no such route, or an error status): poll instead.
      // CONNECTING is the browser reconnecting by itself with Last-Event-ID; poll meanwhile.
      startPolling();
      if (stream.readyState === EventSource.CLOSED) stream.close();
    };
  }

  var pollTick = 0;

  function poll() {
    pollTick += 1;
    var work = [fetchNewMessages()];
    if (pollTick % 2 === 0) {
      work.push(
        api("GET", "/tickets" + query({ per_page: 1 })).then(function (json) {
          var newest = json.data[0];
          if (newest && newest.id > state.newestTicketId) {
            if (state.newestTicketId) notifyNewTicket(newest);
            state.newestTicketId = newest.id;
            refreshSoon();
          }
        })
      );
      work.push(loadStats().then(function (changed) { if (changed) refreshSoon(); }));
    }
    return Promise.all(work).then(
      function () { if (state.live !== "live") setLive("polling"); },
      function () { setLive("offline"); }
    );
  }

  // Read receipts change without any event (the user only opened the ticket), in stream and polling
  // mode alike: while an admin message shows unread, look again now and then.
  function refreshReceipts() {
    if (state.ticket && $("messages").querySelector(".msg-admin .msg-read:not(.is-read)")) openTicket(state.ticket.id);
  }

  function startPolling() {
    if (state.pollTimer) return;
    setLive("polling");
    state.pollTimer = window.setInterval(poll, 1000);
  }

  function stopPolling() {
    if (state.pollTimer) window.clearInterval(state.pollTimer);
    state.pollTimer = null;
  }

  // -- navigation ------------------------------------------------------------

  function route() {
    var hash = window.location.hash || "#/";
    var stats = hash === "#/stats";
    var teams = hash === "#/teams" && state.teams !== null;
    var reports = hash === "#/reports" && state.reports;
    var automation = hash === "#/automation" && state.automation !== null;
    $("tickets-view").hidden = stats || teams || reports || automation;
    $("stats-view").hidden = !stats;
    $("teams-view").hidden = !teams;
    $("reports-view").hidden = !reports;
    $("automation-view").hidden = !automation;
    $("nav-tickets").classList.toggle("active", !stats && !teams && !reports && !automation);
    $("nav-stats").classList.toggle("active", stats);
    $("nav-teams").classList.toggle("active", teams);
    $("nav-reports").classList.toggle("active", reports);
    $("nav-automation").classList.toggle("active", automation);
    var match = /^#\/tickets\/(\d+)$/.exec(hash);
    if (match) openTicket(Number(match[1]), true);
    else if (!stats && !teams && !reports && !automation) closeTicket();
    if (stats) loadStats();
    if (teams) loadTeams();
    if (reports) loadReport();
    if (automation) loadAutomation();
  }

  // -- reports (spec §19, when the reports feature is mounted) ---------------------

  var REPORT_GROUPS = ["day", "week", "month", "agent", "category", "priority"];
  // Each column: its heading key and how to read it from a row of GET /reports (the numbers as the API gives them).
  var REPORT_COLUMNS = [
    ["created", function (r) { return r.created; }],
    ["resolved", function (r) { return r.resolved; }],
    ["reopened", function (r) { return r.reopened; }],
    ["frtMedian", function (r) { return r.first_response.wall.median; }],
    ["frtP90", function (r) { return r.first_response.wall.p90; }],
    ["nextMedian", function (r) { return r.next_response.wall.median; }],
    ["resolutionMedian", function (r) { return r.resolution.wall.median; }],
    ["resolutionP90", function (r) { return r.resolution.wall.p90; }],
    ["csat", function (r) { return r.csat.mean; }],
    ["csatCount", function (r) { return r.csat.count; }],
    ["slaFirst", function (r) { return r.sla.first_response.share; }],
    ["slaResolution", function (r) { return r.sla.resolution.share; }],
    ["backlog", function (r) { return r.backlog; }],
  ];

  function isoDay(date) {
    return date.toISOString().slice(0, 10);
  }

  function reportQuery(format) {
    return query({
      from: $("reports-from").value,
      to: $("reports-to").value,
      group_by: $("reports-group").value,
      format: format,
    });
  }

  // A form's date range ending tomorrow (UTC, excluded) and starting ``days`` before it.
  function fillDateRange(from, to, days) {
    var today = new Date();
    var next = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 1));
    to.value = isoDay(next);
    from.value = isoDay(new Date(next.getTime() - days * 86400000));
  }

  function wireReports() {
    fillDateRange($("reports-from"), $("reports-to"), 30);
    $("reports-group").replaceChildren.apply(
      $("reports-group"),
      REPORT_GROUPS.map(function (group) { return option(group, t("reports.group." + group)); })
    );
    var head = $("reports-head");
    head.replaceChildren(el("th", { text: t("reports.col.group"), attrs: { scope: "col" } }));
    REPORT_COLUMNS.forEach(function (column) {
      head.appendChild(el("th", { text: t("reports.col." + column[0]), attrs: { scope: "col" } }));
    });
    $("reports-form").addEventListener("submit", function (event) {
      event.preventDefault();
      loadReport();
    });
  }

  function figure(value) {
    return value === null || value === undefined ? "–" : String(value);
  }

  function reportRow(row, total) {
    var cells = [el("th", { text: row.group, attrs: { scope: "row" } })];
    REPORT_COLUMNS.forEach(function (column) {
      cells.push(el("td", { text: figure(column[1](row)), attrs: { "data-col": column[0] } }));
    });
    return el("tr", { cls: total ? "report-total" : "", attrs: { "data-group": row.group }, children: cells });
  }

  function reportChart(target, rows, read) {
    var counts = {};
    var order = rows.map(function (row) {
      counts[row.group] = read(row) || 0;
      return row.group;
    });
    barChart(target, "tag", counts, order);  // "tag": groups are shown as the API names them
  }

  function renderReport(report) {
    var body = $("reports-rows");
    body.replaceChildren.apply(body, report.rows.map(function (row) { return reportRow(row, false); }));
    body.appendChild(reportRow(report.total, true));
    $("reports-empty").hidden = report.total.created + report.total.resolved + report.total.csat.count > 0;
    $("reports-csv").setAttribute("href", state.session.api + "/reports" + reportQuery("csv"));
    reportChart("chart-report-frt", report.rows, function (r) { return r.first_response.wall.median; });
    reportChart("chart-report-created", report.rows, function (r) { return r.created; });
    reportChart("chart-report-sla", report.rows, function (r) { return r.sla.first_response.share; });
    reportChart("chart-report-csat", report.rows, function (r) { return r.csat.mean; });
    $("reports-view").setAttribute("data-loaded", String(Number($("reports-view").getAttribute("data-loaded") || 0) + 1));
  }

  function loadReport() {
    return api("GET", "/reports" + reportQuery("")).then(function (json) {
      renderReport(json.data);
    }).catch(showError);
  }

  function probeReports() {
    // The smallest range: a 404 means the feature is not mounted, and the panel shows no reports view.
    var now = new Date();
    return api("GET", "/reports" + query({ from: isoDay(now), to: isoDay(new Date(now.getTime() + 86400000)) }))
      .then(function () {
        state.reports = true;
        $("nav-reports").hidden = false;
      })
      .catch(function (error) {
        state.reports = false;
        if (error.status !== 404) showError(error);
      });
  }

  // -- automation: the auto-acknowledgement (when the automation feature is mounted) --

  var ACK_TEXTS = [
    ["ack-inside-es", "inside", "es"],
    ["ack-inside-en", "inside", "en"],
    ["ack-outside-es", "outside", "es"],
    ["ack-outside-en", "outside", "en"],
  ];

  function loadAutomation() {
    // Calendars are the SLA feature's: without it the list is empty and saving says why.
    var calendars = api("GET", "/sla/calendars").catch(function () {
      return { data: [] };
    });
    return Promise.all([
      api("GET", "/automation/acknowledgement"),
      api("GET", "/canned-responses"),
      calendars,
      api("GET", "/knowledge-base/articles"),
      api("GET", "/automation/rules"),
    ]).then(function (replies) {
      state.automation = {
        ack: replies[0].data,
        canned: replies[1].data,
        calendars: replies[2].data,
        articles: replies[3].data,
        rules: replies[4].data,
      };
      $("nav-automation").hidden = false;
      renderAcknowledgement();
      renderCannedAdmin();
      renderArticles();
      renderRules();
    });
  }

  function probeAutomation() {
    return loadAutomation().catch(function (error) {
      state.automation = null;
      if (error.status !== 404) showError(error);
    });
  }

  function renderAcknowledgement() {
    var ack = state.automation.ack;
    // Not set up yet: setting it up means turning it on.
    var on = ack.enabled || ack.rule_id === null;
    $("ack-enabled").replaceChildren(option("on", t("teams.on"), on), option("off", t("teams.off"), !on));
    var calendar = $("ack-calendar");
    calendar.replaceChildren();
    state.automation.calendars.forEach(function (c) {
      calendar.appendChild(option(c.name, c.name, c.name === ack.calendar));
    });
    ACK_TEXTS.forEach(function (row) {
      var select = $(row[0]);
      var chosen = (ack[row[1]] || {})[row[2]];
      select.replaceChildren(option("", t("ack.none"), chosen === undefined));
      state.automation.canned
        .filter(function (c) { return c.owner_id === null; })
        .forEach(function (c) {
          select.appendChild(option(String(c.id), "/" + c.short_code + " — " + c.title, c.id === chosen));
        });
    });
    $("ack-default-language").replaceChildren(
      option("es", t("ack.language.es"), ack.default_language !== "en"),
      option("en", t("ack.language.en"), ack.default_language === "en")
    );
    $("ack-state").textContent =
      ack.rule_id === null ? t("ack.unset") : t("ack.saved", { version: ack.rule_version, rule: ack.rule_id });
  }

  function saveAcknowledgement(event) {
    event.preventDefault();
    var body = { enabled: $("ack-enabled").value === "on", default_language: $("ack-default-language").value };
    if ($("ack-calendar").value) body.calendar = $("ack-calendar").value;
    ACK_TEXTS.forEach(function (row) {
      var value = $(row[0]).value;
      if (!value) return;
      body[row[1]] = body[row[1]] || {};
      body[row[1]][row[2]] = Number(value);
    });
    api("PUT", "/automation/acknowledgement", body)
      .then(function (reply) {
        state.automation.ack = reply.data;
        renderAcknowledgement();
        toast(t("ack.saved", { version: reply.data.rule_version, rule: reply.data.rule_id }), null, "ok");
      })
      .catch(showError);
  }

  // -- automation: canned responses, the knowledge base and rules, each a list and an editor --------

  // What each editor is changing (null: it creates). Kept outside state.automation, which every load replaces.
  var editing = { canned: null, article: null, rule: null };

  // A 422 naming a field the editor shows goes next to that field (its "<input id>-error" paragraph);
  // anything else is a toast. ``fields`` maps the API's field names to input ids, "*" for any field.
  function showFieldError(fields, error) {
    var field = error && error.details && typeof error.details.field === "string" ? error.details.field.split(".")[0] : "";
    var input = error && error.status === 422 ? fields[field] || fields["*"] : null;
    if (!input) {
      showError(error);
      return;
    }
    $(input + "-error").textContent = error.message;
    $(input).setAttribute("aria-invalid", "true");
    $(input).focus();
  }

  function clearFieldErrors(form) {
    form.querySelectorAll(".field-error").forEach(function (node) { node.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (node) { node.removeAttribute("aria-invalid"); });
  }

  // A record's row: its cells, then Edit and Delete buttons naming it for screen readers.
  function recordRow(key, id, cells, name, onEdit, deletePath) {
    var edit = el("button", { text: t("automation.edit"), attrs: { type: "button", "aria-label": t("automation.editOf", { name: name }) } });
    var remove = el("button", { text: t("automation.delete"), attrs: { type: "button", "aria-label": t("automation.deleteOf", { name: name }) } });
    edit.addEventListener("click", onEdit);
    remove.addEventListener("click", function () { deleteRecord(deletePath); });
    var attrs = {};
    attrs["data-" + key] = String(id);
    var actions = el("td", { children: [el("div", { cls: "row-buttons", children: [edit, remove] })] });
    return el("tr", { attrs: attrs, children: cells.concat([actions]) });
  }

  // After a write: the toast, a fresh load of the view (the acknowledgement's choices and the reply box's
  // suggestions use the same canned responses), and the editor back to "new".
  function automationSaved(message, kind) {
    toast(message, null, "ok");
    canned.list = null;
    if (kind) resetEditor(kind);
    return loadAutomation().catch(showError);
  }

  function deleteRecord(path) {
    api("DELETE", path)
      .then(function () { return automationSaved(t("automation.deleted")); })
      .catch(showError);
  }

  // The three editors share their ids' shape ("<kind>-form", "<kind>-form-title", "<kind>-cancel"), a heading
  // for a new record, the collection they write to and the API fields they show errors beside.
  var EDITORS = {
    canned: { newKey: "cannedAdmin.new", path: "/canned-responses", fields: { short_code: "canned-code", title: "canned-name", content: "canned-content" } },
    article: { newKey: "articles.new", path: "/knowledge-base/articles", fields: { title: "article-name", body: "article-body", tags: "article-tags" } },
    rule: { newKey: "rules.new", path: "/automation/rules", fields: { "*": "rule-definition" } },
  };

  function resetEditor(kind) {
    editing[kind] = null;
    $(kind + "-form").reset();
    clearFieldErrors($(kind + "-form"));
    $(kind + "-form-title").textContent = t(EDITORS[kind].newKey);
    $(kind + "-cancel").hidden = true;
    if (kind === "canned") $("canned-scope").disabled = false;
  }

  function startEditing(kind, id, heading, first) {
    resetEditor(kind);
    editing[kind] = id;
    $(kind + "-form-title").textContent = heading;
    $(kind + "-cancel").hidden = false;
    $(first).focus();
  }

  // POST a new record or PUT the edited one; ``message`` says what was saved from the API's answer.
  function saveRecord(kind, payload, message) {
    var editor = EDITORS[kind];
    var write = editing[kind] === null ? api("POST", editor.path, payload) : api("PUT", editor.path + "/" + editing[kind], payload);
    write
      .then(function (reply) { return automationSaved(message(reply.data), kind); })
      .catch(function (error) { showFieldError(editor.fields, error); });
  }

  // Canned responses

  function renderCannedAdmin() {
    $("canned-rows").replaceChildren.apply(
      $("canned-rows"),
      state.automation.canned.map(function (item) {
        var code = "/" + item.short_code;
        return recordRow(
          "canned",
          item.id,
          [
            el("td", { cls: "canned-code", text: code }),
            el("td", { text: item.title }),
            el("td", { text: t(item.owner_id === null ? "cannedAdmin.shared" : "cannedAdmin.personal") }),
          ],
          code,
          function () { editCanned(item); },
          "/canned-responses/" + item.id
        );
      })
    );
    $("canned-empty").hidden = state.automation.canned.length > 0;
  }

  function editCanned(item) {
    startEditing("canned", item.id, t("cannedAdmin.editing", { code: item.short_code }), "canned-code");
    $("canned-code").value = item.short_code;
    $("canned-name").value = item.title;
    $("canned-content").value = item.content;
    $("canned-scope").value = item.owner_id === null ? "shared" : "personal";
    $("canned-scope").disabled = true;  // the API keeps a response's owner: a copy under a new code changes it
  }

  function saveCanned(event) {
    event.preventDefault();
    clearFieldErrors($("canned-form"));
    var payload = { short_code: $("canned-code").value.trim(), title: $("canned-name").value.trim(), content: $("canned-content").value };
    if (editing.canned === null) payload.personal = $("canned-scope").value === "personal";
    saveRecord("canned", payload, function (saved) { return t("cannedAdmin.saved", { code: saved.short_code }); });
  }

  // Knowledge-base articles

  function renderArticles() {
    $("article-rows").replaceChildren.apply(
      $("article-rows"),
      state.automation.articles.map(function (article) {
        return recordRow(
          "article",
          article.id,
          [
            el("td", { text: article.title }),
            el("td", { text: t("ack.language." + article.language) }),
            el("td", { text: article.tags.join(", ") || "—" }),
          ],
          article.title,
          function () { editArticle(article); },
          "/knowledge-base/articles/" + article.id
        );
      })
    );
    $("articles-empty").hidden = state.automation.articles.length > 0;
  }

  function editArticle(article) {
    startEditing("article", article.id, t("articles.editing", { id: article.id }), "article-name");
    $("article-name").value = article.title;
    $("article-body").value = article.body;
    $("article-language").value = article.language;
    $("article-tags").value = article.tags.join(", ");
  }

  function saveArticle(event) {
    event.preventDefault();
    clearFieldErrors($("article-form"));
    saveRecord(
      "article",
      {
        title: $("article-name").value.trim(),
        body: $("article-body").value,
        language: $("article-language").value,
        tags: $("article-tags").value.split(",").map(function (tag) { return tag.trim(); }).filter(Boolean),
      },
      function () { return t("articles.saved"); }
    );
  }

  // Rules: data the server validates; the panel only parses the JSON and shows what the API says of it.

  function ruleName(rule) {
    return typeof rule.definition.name === "string" ? rule.definition.name : "#" + rule.id;
  }

  function ruleSaved(saved) {
    return t("rules.saved", { id: saved.id, version: saved.version });
  }

  function triggerText(trigger) {
    if (!trigger) return "—";
    if (trigger.kind === "event") return t("rules.triggerEvent", { events: (trigger.events || []).join(", ") });
    if (trigger.kind === "time") return t("rules.triggerTime", { seconds: trigger.after });
    return String(trigger.kind);
  }

  // On or off: the same definition saved as the rule's next version.
  function ruleSwitch(rule) {
    // A select, not a checkbox: the panel adds no input elements at run time (the XSS instrumentation checks it).
    var enabled = el("select", { attrs: { "aria-label": t("rules.enabledOf", { name: ruleName(rule) }) } });
    enabled.appendChild(option("on", t("teams.on"), rule.enabled));
    enabled.appendChild(option("off", t("teams.off"), !rule.enabled));
    enabled.addEventListener("change", function () {
      api("PUT", "/automation/rules/" + rule.id, Object.assign({}, rule.definition, { enabled: enabled.value === "on" }))
        .then(function (reply) { return automationSaved(ruleSaved(reply.data)); })
        .catch(function (error) {
          showError(error);
          loadAutomation().catch(showError);
        });
    });
    return enabled;
  }

  function renderRules() {
    $("rule-rows").replaceChildren.apply(
      $("rule-rows"),
      state.automation.rules.map(function (rule) {
        return recordRow(
          "rule",
          rule.id,
          [
            el("td", { text: String(rule.id) }),
            el("td", { text: ruleName(rule) }),
            el("td", { text: triggerText(rule.definition.trigger) }),
            el("td", { cls: "rule-version", text: String(rule.version) }),
            el("td", { children: [ruleSwitch(rule)] }),
          ],
          ruleName(rule),
          function () { editRule(rule); },
          "/automation/rules/" + rule.id
        );
      })
    );
    $("rules-empty").hidden = state.automation.rules.length > 0;
    var chosen = $("dry-run-rule").value;
    $("dry-run-rule").replaceChildren(option("", t("dryRun.all")));
    state.automation.rules.forEach(function (rule) {
      $("dry-run-rule").appendChild(option(String(rule.id), "#" + rule.id + " " + ruleName(rule), String(rule.id) === chosen));
    });
  }

  function editRule(rule) {
    startEditing("rule", rule.id, t("rules.editing", { id: rule.id }), "rule-definition");
    $("rule-definition").value = JSON.stringify(Object.assign({}, rule.definition, { enabled: rule.enabled }), null, 2);
  }

  function saveRule(event) {
    event.preventDefault();
    clearFieldErrors($("rule-form"));
    var definition;
    try {
      definition = JSON.parse($("rule-definition").value);
    } catch (e) {
      $("rule-definition-error").textContent = t("rules.badJson", { message: e.message });
      $("rule-definition").setAttribute("aria-invalid", "true");
      return;
    }
    saveRecord("rule", definition, ruleSaved);
  }

  // The dry run: what the rules would have done over a past range (the API writes nothing).

  function dryRunRow(firing) {
    var rule = state.automation.rules.find(function (r) { return r.id === firing.rule_id; });
    var describe = function (actions) {
      return actions.map(function (action) { return JSON.stringify(action); }).join("\n") || "—";
    };
    return el("tr", {
      attrs: { "data-rule": String(firing.rule_id), "data-ticket": String(firing.ticket_id) },
      children: [
        el("td", { text: when(firing.at) }),
        el("td", { text: rule ? ruleName(rule) : "#" + firing.rule_id }),
        el("td", { text: String(firing.rule_version) }),
        el("td", { children: [el("a", { text: "#" + firing.ticket_id, attrs: { href: "#/tickets/" + firing.ticket_id } })] }),
        el("td", { cls: "dry-run-actions", text: describe(firing.actions) }),
        el("td", { cls: "dry-run-actions", text: describe(firing.dropped) }),
      ],
    });
  }

  function runDryRun(event) {
    event.preventDefault();
    $("dry-run-error").textContent = "";
    var payload = { from: $("dry-run-from").value + "T00:00:00Z", to: $("dry-run-to").value + "T00:00:00Z" };
    if ($("dry-run-rule").value) payload.rule_ids = [Number($("dry-run-rule").value)];
    api("POST", "/automation/rules/dry-run", payload)
      .then(function (reply) {
        $("dry-run-rows").replaceChildren.apply($("dry-run-rows"), reply.data.map(dryRunRow));
        $("dry-run-table").hidden = reply.data.length === 0;
        $("dry-run-empty").hidden = reply.data.length > 0;
      })
      .catch(function (error) {
        if (error.status === 422) $("dry-run-error").textContent = error.message;
        else showError(error);
      });
  }

  function wireAutomationEditors() {
    $("canned-scope").replaceChildren(option("shared", t("cannedAdmin.shared"), true), option("personal", t("cannedAdmin.personal")));
    $("article-language").replaceChildren(option("es", t("ack.language.es"), LANG !== "en"), option("en", t("ack.language.en"), LANG === "en"));
    $("canned-form").addEventListener("submit", saveCanned);
    $("article-form").addEventListener("submit", saveArticle);
    $("rule-form").addEventListener("submit", saveRule);
    Object.keys(EDITORS).forEach(function (kind) {
      $(kind + "-cancel").addEventListener("click", function () { resetEditor(kind); });
    });
    fillDateRange($("dry-run-from"), $("dry-run-to"), 7);
    $("dry-run-form").addEventListener("submit", runDryRun);
  }

  // -- teams: availability, teams and transfer (when the teams feature is mounted) --

  function loadTeams() {
    return Promise.all([api("GET", "/availability"), api("GET", "/teams")]).then(function (replies) {
      state.teams = { agents: replies[0].data, teams: replies[1].data };
      $("nav-teams").hidden = false;
      renderAvailability();
      renderTeams();
      fillTransferTargets();
      if (state.ticket) renderTransfer(state.ticket);
    });
  }

  function probeTeams() {
    // A 404 means the feature's routes are not mounted: the panel shows no teams view.
    return loadTeams().catch(function (error) {
      state.teams = null;
      if (error.status !== 404) showError(error);
    });
  }

  function saved(promise) {
    return promise
      .then(function () {
        toast(t("teams.saved"), null, "ok");
        return loadTeams();
      })
      .catch(function (error) {
        showError(error);
        return loadTeams();
      });
  }

  function renderAvailability() {
    var rows = $("availability-rows");
    rows.replaceChildren();
    state.teams.agents.forEach(function (agent) {
      var select = el("select", { attrs: { "aria-label": t("teams.statusOf", { name: agent.name }) } });
      ["available", "away", "offline"].forEach(function (status) {
        select.appendChild(option(status, t("availability." + status), status === agent.status));
      });
      select.addEventListener("change", function () {
        saved(api("PUT", "/agents/" + agent.id + "/availability", { status: select.value }));
      });
      var load = agent.capacity ? agent.open_load + " / " + agent.capacity : String(agent.open_load);
      rows.appendChild(
        el("tr", {
          attrs: { "data-agent-id": String(agent.id) },
          children: [
            el("td", { text: agent.name }),
            el("td", { text: agent.teams.join(", ") || "—" }),
            el("td", { text: load }),
            el("td", { children: [select] }),
            el("td", { text: agent.takes_tickets ? t("teams.yes") : t("teams.no") }),
          ],
        })
      );
    });
    $("availability-empty").hidden = state.teams.agents.length > 0;
  }

  function renderTeams() {
    var rows = $("teams-rows");
    rows.replaceChildren();
    state.teams.teams.forEach(function (team) {
      // A select, not a checkbox: the panel adds no input elements at run time (the XSS instrumentation checks it).
      var auto = el("select", { attrs: { "aria-label": t("teams.autoOf", { name: team.display_name }) } });
      auto.appendChild(option("on", t("teams.on"), team.auto_assign));
      auto.appendChild(option("off", t("teams.off"), !team.auto_assign));
      auto.addEventListener("change", function () {
        saved(api("PUT", "/teams/" + encodeURIComponent(team.name), { auto_assign: auto.value === "on" }));
      });
      rows.appendChild(
        el("tr", {
          attrs: { "data-team": team.name },
          children: [
            el("td", { text: team.display_name }),
            el("td", { text: team.categories.map(function (c) { return label("category", c); }).join(", ") || "—" }),
            el("td", { text: team.members.map(function (id) { return adminName(id); }).join(", ") || "—" }),
            el("td", { text: String(team.waiting) }),
            el("td", { children: [auto] }),
          ],
        })
      );
    });
    $("teams-empty").hidden = state.teams.teams.length > 0;
  }

  function fillTransferTargets() {
    var select = $("transfer-to");
    var agents = el("optgroup", { attrs: { label: t("transfer.agents") } });
    state.teams.agents.forEach(function (agent) {
      agents.appendChild(option("agent:" + agent.id, agent.name));
    });
    var teams = el("optgroup", { attrs: { label: t("transfer.teams") } });
    state.teams.teams.forEach(function (team) {
      teams.appendChild(option("team:" + team.name, team.display_name));
    });
    select.replaceChildren(agents, teams);
  }

  function renderTransfer(ticket) {
    $("transfer").hidden = state.teams === null || ticket.status === "closed";
  }

  // -- wiring ----------------------------------------------------------------

  function wireApp() {
    fillChoices($("filter-priority"), state.session.priorities, "priority", t("filter.any"));
    fillChoices($("filter-category"), state.session.categories, "category", t("filter.any"));
    fillAssignees($("filter-assignee"), [["", t("filter.any")], ["none", t("filter.unassigned")]]);
    $("filter-sort").replaceChildren(option("", t("sort.newest"), true), option("due", t("sort.due"), false));
    $("me").textContent = state.session.admin.name || "#" + state.session.admin.id;
    wireUploads();
    $("logout").hidden = !state.session.can_logout;

    $("filters").addEventListener("submit", function (event) {
      event.preventDefault();
      readFilters();
      loadTickets();
    });
    $("filter-reset").addEventListener("click", function () {
      $("filters").reset();
      state.filters.status = "";
      readFilters();
      renderStatusTabs(state.lastStats);
      loadTickets();
    });
    $("page-prev").addEventListener("click", function () {
      if (state.page > 1) {
        state.page -= 1;
        loadTickets();
      }
    });
    $("page-next").addEventListener("click", function () {
      state.page += 1;
      loadTickets();
    });
    $("ticket-close").addEventListener("click", function () {
      window.location.hash = "#/";
    });
    // Older messages load when the thread is scrolled to its top, or with the button (keyboard, screen readers).
    $("messages-older").addEventListener("click", loadOlder);
    $("messages").addEventListener("scroll", function () {
      if ($("messages").scrollTop < 40) loadOlder();
    });
    $("ticket-controls").addEventListener("submit", function (event) {
      event.preventDefault();
      if (!state.ticket) return;
      var id = state.ticket.id;
      var assignee = $("ticket-assignee").value;
      api("PUT", "/tickets/" + id + "/status", {
        status: $("ticket-status").value,
        assigned_to: assignee === "" ? null : Number(assignee),
      })
        .then(function () {
          toast(t("ticket.updated"), null, "ok");
          refreshSoon();
          return openTicket(id);
        })
        .catch(showError);
    });
    $("merge-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var into = $("merge-into").value.trim();
      if (!state.ticket || !into) return;
      var source = state.ticket.ticket_number;
      $("merge-submit").disabled = true;
      api("POST", "/tickets/" + state.ticket.id + "/merge", { into: /^[0-9]+$/.test(into) ? Number(into) : into })
        .then(function (json) {
          $("merge-into").value = "";
          toast(t("merge.done", { source: source, target: json.data.ticket_number }), null, "ok");
          refreshSoon();
          return openTicket(json.data.id, true);
        })
        .catch(showError)
        .then(function () {
          $("merge-submit").disabled = false;
        });
    });
    $("reply-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var text = $("reply-text").value;
      var attachment = state.attachment;
      if (!state.ticket || (!text.trim() && !attachment)) return;
      var id = state.ticket.id;
      $("reply-send").disabled = true;
      var payload = {
        message: text.trim() ? text : attachment.filename,
        message_type: "text",
        client_message_id: "panel-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10),
      };
      if (attachment) {
        payload.attachment_id = attachment.id;
        delete payload.message_type; // the upload's kind
      }
      api("POST", "/tickets/" + id + "/messages", payload)
        .then(function (json) {
          $("reply-text").value = "";
          if (attachment) clearAttachment();
          if (state.ticket && state.ticket.id === id) appendMessages([json.data]);
          refreshSoon();
        })
        .catch(showError)
        .then(function () {
          $("reply-send").disabled = state.ticket !== null && state.ticket.status === "closed";
        });
    });
    $("note-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var text = $("note-text").value;
      if (!state.ticket || !text.trim()) return;
      var id = state.ticket.id;
      $("note-send").disabled = true;
      api("POST", "/tickets/" + id + "/notes", { note: text })
        .then(function (json) {
          $("note-text").value = "";
          if (state.ticket && state.ticket.id === id) placeNotes([json.data]);
          toast(t("note.added"), null, "ok");
          return loadHistory(id);
        })
        .catch(showError)
        .then(function () {
          $("note-send").disabled = false;
        });
    });
    $("tag-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var tag = $("tag-input").value.trim();
      if (!state.ticket || !tag) return;
      var id = state.ticket.id;
      api("POST", "/tickets/" + id + "/tags", { tags: [tag] })
        .then(function (json) {
          $("tag-input").value = "";
          if (state.ticket && state.ticket.id === id) renderTags(json.data.tags);
          refreshSoon();
          return loadHistory(id);
        })
        .catch(showError);
    });
    $("transfer-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (!state.ticket) return;
      var id = state.ticket.id;
      var target = $("transfer-to").value;
      var payload = { reason: $("transfer-reason").value || null, note: $("transfer-note").value || null };
      if (target.indexOf("agent:") === 0) payload.to = Number(target.slice(6));
      else payload.team = target.slice(5);
      if ($("transfer-force").checked) payload.force = true;
      api("POST", "/tickets/" + id + "/transfer", payload)
        .then(function () {
          toast(t("transfer.done"), null, "ok");
          $("transfer-form").reset();
          refreshSoon();
          return openTicket(id);
        })
        .catch(showError);
    });
    $("team-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var name = $("team-name").value.trim().toLowerCase();
      if (!name) return;
      saved(api("PUT", "/teams/" + encodeURIComponent(name), { auto_assign: $("team-auto").checked })).then(function () {
        $("team-form").reset();
      });
    });
    $("ack-form").addEventListener("submit", saveAcknowledgement);
    wireAutomationEditors();
    $("reply-text").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("reply-send").click();
      else if ((event.key === "Tab" || event.key === "Enter") && cannedShown().length) {
        event.preventDefault();
        expandCanned(cannedShown()[0]);
      } else if (event.key === "Escape") showCanned([]);
    });
    $("reply-text").addEventListener("input", suggestCanned);
    $("logout").addEventListener("click", function () {
      request("POST", body.getAttribute("data-logout-url"), {}).then(function () {
        window.location.hash = "";
        window.location.reload();
      }, showError);
    });
    wireReports();
    window.addEventListener("hashchange", route);
  }

  function startApp() {
    $("app-view").hidden = false;
    setLive("connecting");
    request("GET", body.getAttribute("data-session-url"))
      .then(function (json) {
        state.session = json.data;
        wireApp();
        renderStatusTabs(null);
        return Promise.all([
          loadTickets(),
          loadStats(),
          api("GET", "/tickets" + query({ per_page: 1 })).then(function (newest) {
            state.newestTicketId = newest.data.length ? newest.data[0].id : 0;
          }),
          probeTeams(),
          probeReports(),
          probeAutomation(),
        ]);
      })
      .then(function () {
        route();
        startStream();
        window.setInterval(refreshReceipts, 4000);
        body.setAttribute("data-ready", "true");
      })
      .catch(function (error) {
        if (error && error.status === 401) signedOut();
        else showError(error);
      });
  }

  function startLogin() {
    $("login-view").hidden = false;
    $("login-token").focus();
    $("login-form").addEventListener("submit", function (event) {
      event.preventDefault();
      $("login-error").textContent = "";
      $("login-submit").disabled = true;
      request("POST", body.getAttribute("data-login-url"), { token: $("login-token").value.trim() })
        .then(function () {
          window.location.reload();
        })
        .catch(function (error) {
          $("login-error").textContent = error.status === 401 ? t("login.invalid") : t("login.failed", { status: error.status });
          $("login-submit").disabled = false;
        });
    });
  }

  function startNotice(key) {
    $("notice-view").hidden = false;
    $("notice-text").textContent = t(key);
    var href = safeUrl(body.getAttribute("data-host-login-url") || "");
    if (href && key === "notice.signedOut") {
      $("notice-link").href = href;
      $("notice-link").hidden = false;
    }
  }

  function start() {
    applyStrings();
    var view = body.getAttribute("data-view");
    if (view === "app") startApp();
    else if (view === "login") startLogin();
    else startNotice(view === "forbidden" ? "notice.forbidden" : "notice.signedOut");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
