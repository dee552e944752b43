//! Every text of the UI in English, Spanish and Russian. A key missing a
//! language does not compile; `{name}` placeholders are filled by [`fill`].

use mostrador_core::callbacks::{CallbackChannel, CallbackStatus};
use mostrador_core::chat::ConversationStatus;
use mostrador_core::phone::PhoneError;
use mostrador_core::{ApiError, ErrorCode};

/// The app's languages: core's, shared with the shell's notifications.
pub use mostrador_core::lang::Lang;

macro_rules! texts {
    ($($key:ident => $en:expr, $es:expr, $ru:expr;)*) => {
        /// A UI text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum K { $($key),* }

        impl K {
            pub const ALL: &'static [K] = &[$(K::$key),*];

            pub fn text(self, lang: Lang) -> &'static str {
                match self {
                    $(K::$key => match lang { Lang::En => $en, Lang::Es => $es, Lang::Ru => $ru }),*
                }
            }
        }
    };
}

texts! {
    AppName => "Mostrador", "Mostrador", "Mostrador";
    NavHome => "Home", "Inicio", "Главная";
    NavOrders => "Orders", "Pedidos", "Заказы";
    NavChats => "Messages", "Mensajes", "Сообщения";
    NavCallbacks => "Calls", "Llamadas", "Звонки";
    NavProfile => "Profile", "Perfil", "Профиль";
    Language => "Language", "Idioma", "Язык";
    Close => "Close", "Cerrar", "Закрыть";

    SignInTitle => "Sign in", "Iniciar sesión", "Вход";
    SignUpTitle => "Create account", "Crear cuenta", "Регистрация";
    SignInLead => "Track your orders, chat with support and book a call back — even offline.",
        "Sigue tus pedidos, habla con soporte y reserva una llamada, incluso sin conexión.",
        "Отслеживайте заказы, пишите в поддержку и заказывайте звонок — даже без сети.";
    Email => "Email", "Correo electrónico", "Эл. почта";
    Password => "Password", "Contraseña", "Пароль";
    PasswordHint => "At least {n} characters.", "Al menos {n} caracteres.", "Не менее {n} символов.";
    YourName => "Your name", "Tu nombre", "Ваше имя";
    SignInAction => "Sign in", "Entrar", "Войти";
    SignUpAction => "Create account", "Crear cuenta", "Создать аккаунт";
    NoAccount => "New here? Create an account", "¿Eres nuevo? Crea una cuenta", "Впервые здесь? Создайте аккаунт";
    HaveAccount => "Already have an account? Sign in", "¿Ya tienes cuenta? Inicia sesión", "Уже есть аккаунт? Войдите";
    PrivacyLink => "How we use your data", "Cómo usamos tus datos", "Как мы используем ваши данные";
    SignOut => "Sign out", "Cerrar sesión", "Выйти";
    SessionEnded => "Your session ended. Please sign in again: anything not sent yet is kept and goes out then.", "Tu sesión ha terminado. Vuelve a iniciar sesión: lo que aún no se ha enviado se guarda y se enviará entonces.", "Сеанс завершён. Войдите снова: всё, что ещё не отправлено, сохранено и будет отправлено после входа.";
    AccountDeletedNote => "Your account was deleted and this device was wiped.", "Tu cuenta se ha eliminado y se han borrado los datos de este dispositivo.", "Ваш аккаунт удалён, данные на этом устройстве стёрты.";

    VerifyBannerTitle => "Confirm your email to see your orders", "Confirma tu correo para ver tus pedidos", "Подтвердите эл. почту, чтобы видеть свои заказы";
    VerifyBannerBody => "We sent a code to {email}.", "Te enviamos un código a {email}.", "Мы отправили код на {email}.";
    VerifyCode => "Code from the email", "Código del correo", "Код из письма";
    VerifyCodeHint => "{n} letters and digits.", "{n} letras y números.", "{n} латинских букв и цифр.";
    VerifyAction => "Verify", "Verificar", "Подтвердить";
    ResendAction => "Send a new code", "Enviar otro código", "Отправить код ещё раз";
    ResendDone => "We sent a new code to {email}. It can take a minute to arrive.", "Te enviamos un código nuevo a {email}. Puede tardar un minuto en llegar.", "Новый код отправлен на {email}. Письмо может прийти через минуту.";
    VerifiedNotice => "Email confirmed. Your orders are here now.", "Correo confirmado. Tus pedidos ya están aquí.", "Эл. почта подтверждена. Ваши заказы теперь здесь.";
    ChangePasswordTitle => "Change password", "Cambiar contraseña", "Смена пароля";
    CurrentPassword => "Current password", "Contraseña actual", "Текущий пароль";
    NewPassword => "New password", "Contraseña nueva", "Новый пароль";
    ConfirmPassword => "Repeat the new password", "Repite la contraseña nueva", "Повторите новый пароль";
    ChangePasswordAction => "Change password", "Cambiar contraseña", "Сменить пароль";
    PasswordChanged => "Password changed. Your other devices were signed out; this one stays signed in.", "Contraseña cambiada. Se cerró la sesión en tus otros dispositivos; en este sigue abierta.", "Пароль изменён. На других устройствах выполнен выход, на этом вы остаётесь в системе.";
    ForgotPassword => "Forgot your password?", "¿Olvidaste tu contraseña?", "Забыли пароль?";
    ResetTitle => "Reset your password", "Restablecer la contraseña", "Восстановление пароля";
    ResetLead => "Enter your account's email and we'll send you a code.", "Escribe el correo de tu cuenta y te enviaremos un código.", "Введите эл. почту аккаунта — мы пришлём код.";
    ResetSendCode => "Send code", "Enviar código", "Отправить код";
    ResetCodeSent => "If an account uses {email}, we sent a code to it. It works for 30 minutes.", "Si hay una cuenta con {email}, le enviamos un código. Vale durante 30 minutos.", "Если есть аккаунт с адресом {email}, мы отправили на него код. Он действует 30 минут.";
    ResetAction => "Set new password", "Guardar contraseña nueva", "Сохранить новый пароль";
    ResetDone => "Your password was changed. Sign in with the new one.", "Tu contraseña se ha cambiado. Inicia sesión con la nueva.", "Пароль изменён. Войдите с новым паролем.";
    BackToSignIn => "Back to sign in", "Volver a iniciar sesión", "Вернуться ко входу";
    FieldCode => "Code", "Código", "Код";
    ErrCodeRecentlySent => "We sent a code less than a minute ago. Wait for it, or ask again in a minute.", "Te enviamos un código hace menos de un minuto. Espéralo o pide otro dentro de un minuto.", "Код отправлен меньше минуты назад. Дождитесь письма или запросите новый код через минуту.";
    ErrCurrentPasswordWrong => "The current password isn't right.", "La contraseña actual no es correcta.", "Текущий пароль указан неверно.";
    ErrPasswordsDiffer => "Repeat the new password exactly: the two don't match.", "Repite la contraseña nueva exactamente: las dos no coinciden.", "Повторите новый пароль точно так же: пароли не совпадают.";
    ErrCodeFormat => "Enter the code from the email: {n} letters and digits.", "Escribe el código del correo: {n} letras y números.", "Введите код из письма: {n} латинских букв и цифр.";
    ErrCodeWrong => "That code isn't right, or it has expired. Check the email, or ask for a new code.", "Ese código no es correcto o ha caducado. Revisa el correo o pide uno nuevo.", "Код неверный или устарел. Проверьте письмо или запросите новый код.";

    Offline => "Offline", "Sin conexión", "Нет сети";
    TryNow => "Try now", "Reintentar ahora", "Повторить сейчас";
    UnsentDiscard => "Discard them and sign in", "Descartarlos e iniciar sesión", "Удалить их и войти";
    UnsentKeep => "Cancel", "Cancelar", "Отмена";
    UnsentKeepHint => "To send them, {name} signs in again on this device.", "Para enviarlos, {name} debe volver a iniciar sesión en este dispositivo.", "Чтобы отправить их, войдите снова как {name} на этом устройстве.";
    UnsentWithFiles => "with files", "con archivos", "с файлами";
    UnsentQuestion => "A new question", "Una pregunta nueva", "Новый вопрос";
    UnsentMessage => "A message", "Un mensaje", "Сообщение";
    UnsentNote => "An internal note", "Una nota interna", "Внутренняя заметка";
    UnsentReceipt => "A read receipt", "Una confirmación de lectura", "Отметка о прочтении";
    UnsentRating => "A rating", "Una valoración", "Оценка";
    UnsentCallbackRequest => "A call booking", "Una reserva de llamada", "Заказ звонка";
    UnsentCallbackCancel => "A call cancellation", "Una cancelación de llamada", "Отмена звонка";
    UnsentCallbackChange => "A new time for a call", "Una nueva hora para una llamada", "Перенос звонка";
    UnsentProfile => "A profile change", "Un cambio en el perfil", "Изменение профиля";
    UnsentAddress => "An address", "Una dirección", "Адрес";
    UnsentAddressRemoval => "An address removal", "La eliminación de una dirección", "Удаление адреса";
    UnsentAccountDeletion => "An account deletion", "La eliminación de la cuenta", "Удаление аккаунта";
    UnsentConversationUpdate => "A conversation update", "Un cambio en una conversación", "Изменение обращения";
    UnsentCallbackOutcome => "A call outcome", "El resultado de una llamada", "Итог звонка";
    UnsentOther => "Another change", "Otro cambio", "Другое изменение";
    UploadProgress => "Sending file: {percent}", "Enviando archivo: {percent}", "Отправка файла: {percent}";
    ServerChecking => "Checking the support server…", "Comprobando el servidor de soporte…", "Проверяем сервер поддержки…";
    ServerOnline => "Online · server {version}", "En línea · servidor {version}", "В сети · сервер {version}";
    ServerConnected => "Connected to {url}", "Conectado a {url}", "Подключено к {url}";
    ServerUnreachable => "Can't reach the support server {url}. We'll keep trying.", "No se puede contactar con el servidor de soporte {url}. Seguiremos intentándolo.", "Сервер поддержки {url} недоступен. Продолжаем попытки.";
    OfflineBanner => "You're offline. Everything you write is kept and sent when the connection is back.",
        "Estás sin conexión. Todo lo que escribas se guarda y se enviará cuando vuelva la conexión.",
        "Нет подключения. Всё, что вы напишете, сохранится и отправится, когда связь восстановится.";
    Connecting => "Connecting…", "Conectando…", "Подключение…";
    Syncing => "Syncing {done} of {total}", "Sincronizando {done} de {total}", "Синхронизация {done} из {total}";
    UpToDate => "Up to date", "Al día", "Всё синхронизировано";

    Hello => "Hello, {name}", "Hola, {name}", "Здравствуйте, {name}";
    AskQuestion => "Ask a question", "Hacer una pregunta", "Задать вопрос";
    ActiveOrders => "On the way", "En camino", "В пути";
    NoActiveOrders => "No orders on the way.", "No hay pedidos en camino.", "Нет заказов в пути.";
    OpenChats => "Conversations", "Conversaciones", "Обращения";
    NoOpenChats => "No open conversations.", "No hay conversaciones abiertas.", "Нет открытых обращений.";
    UpcomingCalls => "Upcoming calls", "Próximas llamadas", "Предстоящие звонки";
    NoUpcomingCalls => "No calls booked.", "No hay llamadas reservadas.", "Звонков не запланировано.";
    SeeAll => "See all", "Ver todo", "Все";
    Loading => "Loading…", "Cargando…", "Загрузка…";

    OrdersTitle => "Your orders", "Tus pedidos", "Ваши заказы";
    SearchOrders => "Search by number or item", "Buscar por número o artículo", "Поиск по номеру или товару";
    AllStatuses => "All statuses", "Todos los estados", "Все статусы";
    NoOrders => "No orders match.", "Ningún pedido coincide.", "Заказы не найдены.";
    NoOrdersYet => "No orders yet. Orders you place at the shop appear here.", "Aún no hay pedidos. Los pedidos que hagas en la tienda aparecerán aquí.", "Заказов пока нет. Заказы, оформленные в магазине, появятся здесь.";
    OrderNumber => "Order {number}", "Pedido {number}", "Заказ {number}";
    PlacedOn => "Placed {date}", "Realizado el {date}", "Оформлен {date}";
    Eta => "Expected {date}", "Llegada prevista {date}", "Ожидается {date}";
    Late => "Running late", "Con retraso", "Задерживается";
    Items => "Items", "Artículos", "Товары";
    Total => "Total", "Total", "Итого";
    ShipTo => "Shipping to", "Dirección de envío", "Адрес доставки";
    Tracking => "Tracking", "Seguimiento", "Отслеживание";
    TrackingWith => "{carrier} · {number}", "{carrier} · {number}", "{carrier} · {number}";
    NoTracking => "No carrier updates yet.", "Aún no hay novedades del transportista.", "Пока нет данных от перевозчика.";
    HelpWithOrder => "Get help with this order", "Ayuda con este pedido", "Помощь с этим заказом";
    Back => "Back", "Volver", "Назад";
    NotFound => "This item is not on this device.", "Este elemento no está en este dispositivo.", "Этих данных нет на устройстве.";

    ChatsTitle => "Messages", "Mensajes", "Сообщения";
    NoChats => "No conversations yet. Ask us anything.", "Aún no hay conversaciones. Pregúntanos lo que quieras.", "Обращений пока нет. Спросите нас о чём угодно.";
    NewQuestion => "New question", "Nueva pregunta", "Новый вопрос";
    AboutOrder => "About order {number}", "Sobre el pedido {number}", "По заказу {number}";
    AskPlaceholder => "Tell us what happened…", "Cuéntanos qué ha pasado…", "Расскажите, что случилось…";
    MessagePlaceholder => "Write a message…", "Escribe un mensaje…", "Напишите сообщение…";
    Send => "Send", "Enviar", "Отправить";
    Attach => "Attach a photo or PDF", "Adjuntar foto o PDF", "Прикрепить фото или PDF";
    RemoveFile => "Remove {name}", "Quitar {name}", "Убрать {name}";
    StatePending => "Waiting to send", "Pendiente de envío", "Ожидает отправки";
    StateSent => "Sent", "Enviado", "Отправлено";
    StateDelivered => "Delivered", "Entregado", "Доставлено";
    StateRead => "Read", "Leído", "Прочитано";
    StateFailed => "Not sent: {reason}", "No enviado: {reason}", "Не отправлено: {reason}";
    Retry => "Retry", "Reintentar", "Повторить";
    Discard => "Discard", "Descartar", "Удалить";
    Typing => "{name} is typing…", "{name} está escribiendo…", "{name} печатает…";
    NewMessagesBelow => "New messages", "Mensajes nuevos", "Новые сообщения";
    You => "You", "Tú", "Вы";
    ChatOpen => "Open", "Abierta", "Открыто";
    ChatPending => "Waiting for you", "Esperando tu respuesta", "Ждёт вашего ответа";
    ChatResolved => "Resolved", "Resuelta", "Решено";
    RateTitle => "How did we do?", "¿Qué tal lo hicimos?", "Как мы справились?";
    RateStars => "{n} of 5", "{n} de 5", "{n} из 5";
    RateComment => "Anything to add? (optional)", "¿Algo que añadir? (opcional)", "Хотите что-то добавить? (необязательно)";
    RateSend => "Send rating", "Enviar valoración", "Отправить оценку";
    RatedThanks => "Thanks! You rated this {n} of 5.", "¡Gracias! Lo valoraste con {n} de 5.", "Спасибо! Ваша оценка: {n} из 5.";

    CallsTitle => "Calls", "Llamadas", "Звонки";
    BookCall => "Book a call back", "Reservar una llamada", "Заказать звонок";
    NoCalls => "No calls yet.", "Aún no hay llamadas.", "Звонков пока нет.";
    Channel => "How should we call?", "¿Cómo te llamamos?", "Как с вами связаться?";
    Voice => "Phone call", "Llamada telefónica", "Телефонный звонок";
    Video => "Video call", "Videollamada", "Видеозвонок";
    Phone => "Phone number", "Número de teléfono", "Номер телефона";
    PhoneHint => "International format, e.g. +34 911 23 45 67", "Formato internacional, p. ej. +34 911 23 45 67", "В международном формате, напр. +7 912 345-67-89";
    PhoneKeepTyping => "Keep typing…", "Sigue escribiendo…", "Продолжайте ввод…";
    PhoneOk => "Looks good: {number}", "Correcto: {number}", "Номер принят: {number}";
    PhoneMissingPlus => "Start with + and the country code.", "Empieza con + y el prefijo del país.", "Начните с + и кода страны.";
    PhoneBadChar => "Use digits only (spaces and dashes are fine).", "Usa solo dígitos (se permiten espacios y guiones).", "Только цифры (пробелы и дефисы допустимы).";
    PhoneLeadingZero => "A country code never starts with 0.", "Un prefijo de país nunca empieza por 0.", "Код страны не начинается с 0.";
    PhoneTooLong => "That's too many digits.", "Sobran dígitos.", "Слишком много цифр.";
    Topic => "What is it about?", "¿De qué se trata?", "О чём поговорим?";
    OrderOptional => "Order (optional)", "Pedido (opcional)", "Заказ (необязательно)";
    NoOrder => "No order", "Ningún pedido", "Без заказа";
    PickSlot => "Pick a time (your local time)", "Elige una hora (tu hora local)", "Выберите время (ваше местное)";
    NoSlots => "No free times in the next two weeks.", "No hay horas libres en las próximas dos semanas.", "Нет свободного времени на ближайшие две недели.";
    SlotsOffline => "Free times need a connection. Try again when you're online.", "Para ver horas libres hace falta conexión. Inténtalo cuando estés en línea.", "Чтобы увидеть свободное время, нужна связь. Попробуйте, когда будете онлайн.";
    Book => "Book call", "Reservar", "Забронировать";
    Cancel => "Cancel", "Cancelar", "Отменить";
    CancelCall => "Cancel call", "Cancelar llamada", "Отменить звонок";
    Reschedule => "Change time", "Cambiar hora", "Перенести";
    CallRequested => "Requested", "Solicitada", "Запрошен";
    CallScheduled => "Booked", "Reservada", "Запланирован";
    CallInProgress => "In progress", "En curso", "Идёт";
    CallCompleted => "Done", "Realizada", "Состоялся";
    CallMissed => "Missed", "Perdida", "Пропущен";
    CallCancelled => "Cancelled", "Cancelada", "Отменён";
    FieldRequired => "Please fill this in.", "Rellena este campo.", "Заполните это поле.";

    ProfileTitle => "Your profile", "Tu perfil", "Ваш профиль";
    DisplayName => "Name", "Nombre", "Имя";
    Save => "Save", "Guardar", "Сохранить";
    Saved => "Saved. It syncs when you're online.", "Guardado. Se sincroniza cuando estés en línea.", "Сохранено. Синхронизируется, когда появится связь.";
    Addresses => "Addresses", "Direcciones", "Адреса";
    Shipping => "Shipping", "Envío", "Доставка";
    Billing => "Billing", "Facturación", "Оплата";
    AddAddress => "Add address", "Añadir dirección", "Добавить адрес";
    Street => "Street and number", "Calle y número", "Улица и дом";
    City => "City", "Ciudad", "Город";
    PostalCode => "Postal code", "Código postal", "Индекс";
    Country => "Country (2 letters)", "País (2 letras)", "Страна (2 буквы)";
    Remove => "Remove", "Eliminar", "Удалить";
    Contact => "How may we contact you?", "¿Cómo podemos contactarte?", "Как с вами связываться?";
    ByEmail => "Email", "Correo", "Эл. почта";
    BySms => "SMS", "SMS", "СМС";
    ByPush => "App notifications", "Notificaciones de la app", "Уведомления приложения";

    PrivacyTitle => "Privacy", "Privacidad", "Конфиденциальность";
    PrivacyIntro => "We keep only what we need to help you, and you can see, change, export or delete it at any time.",
        "Guardamos solo lo necesario para ayudarte, y puedes verlo, cambiarlo, exportarlo o borrarlo cuando quieras.",
        "Мы храним только то, что нужно, чтобы вам помочь. Вы можете посмотреть, изменить, выгрузить или удалить эти данные в любой момент.";
    PrivacyAccount => "Account: your email, name, language and password (stored only as a one-way hash). Kept while you have an account.",
        "Cuenta: tu correo, nombre, idioma y contraseña (guardada solo como hash irreversible). Se conserva mientras tengas cuenta.",
        "Аккаунт: эл. почта, имя, язык и пароль (хранится только в виде необратимого хеша). Хранится, пока существует аккаунт.";
    PrivacyOrders => "Orders and tracking: sent by the shop so you can follow your parcels. Kept while you have an account.",
        "Pedidos y seguimiento: los envía la tienda para que sigas tus paquetes. Se conservan mientras tengas cuenta.",
        "Заказы и отслеживание: передаёт магазин, чтобы вы могли следить за посылками. Хранятся, пока существует аккаунт.";
    PrivacyChats => "Conversations, files and calls: so support knows your story and you never repeat yourself. Kept while you have an account.",
        "Conversaciones, archivos y llamadas: para que soporte conozca tu historial y no tengas que repetirte. Se conservan mientras tengas cuenta.",
        "Переписка, файлы и звонки: чтобы поддержка знала историю и вам не приходилось повторяться. Хранятся, пока существует аккаунт.";
    PrivacyDevice => "On this device: a copy for offline use, deleted when you sign out. If your session ends by itself, the copy is deleted too, except changes not yet sent: they wait until you sign in again (someone else signing in here is asked first, and they are deleted). Your session key lives in the system keychain, never in a file.",
        "En este dispositivo: una copia para usar sin conexión, que se borra al cerrar sesión. Si tu sesión termina sola, la copia también se borra, salvo los cambios aún no enviados: esperan a que vuelvas a iniciar sesión (si otra persona inicia sesión aquí, se le pregunta antes y se borran). Tu clave de sesión se guarda en el llavero del sistema, nunca en un archivo.",
        "На этом устройстве: копия для работы без сети, удаляется при выходе. Если сеанс завершится сам, копия тоже удаляется, кроме ещё не отправленных изменений: они ждут вашего следующего входа (если здесь войдёт кто-то другой, его сначала спросят, и они будут удалены). Ключ сеанса хранится в системной связке ключей, а не в файле.";
    PrivacyDeviceWeb => "In this browser: a copy for offline use, deleted when you sign out. If your session ends by itself, the copy is deleted too, except changes not yet sent: they wait until you sign in again (someone else signing in here is asked first, and they are deleted). Your session key is kept in this browser's storage for this support site only: the shop's pages cannot read it.",
        "En este navegador: una copia para usar sin conexión, que se borra al cerrar sesión. Si tu sesión termina sola, la copia también se borra, salvo los cambios aún no enviados: esperan a que vuelvas a iniciar sesión (si otra persona inicia sesión aquí, se le pregunta antes y se borran). Tu clave de sesión se guarda en el almacenamiento de este navegador, solo para este sitio de soporte: las páginas de la tienda no pueden leerla.",
        "В этом браузере: копия для работы без сети, удаляется при выходе. Если сеанс завершится сам, копия тоже удаляется, кроме ещё не отправленных изменений: они ждут вашего следующего входа (если здесь войдёт кто-то другой, его сначала спросят, и они будут удалены). Ключ сеанса хранится в хранилище этого браузера только для сайта поддержки: страницы магазина не могут его прочитать.";
    PrivacyDelete => "When you delete your account, your personal data is erased at once; only an anonymous record that an account was deleted remains.",
        "Al eliminar tu cuenta, tus datos personales se borran de inmediato; solo queda un registro anónimo de que se eliminó una cuenta.",
        "При удалении аккаунта личные данные стираются сразу; остаётся лишь анонимная запись о том, что аккаунт был удалён.";
    Export => "Export my data", "Exportar mis datos", "Выгрузить мои данные";
    Exported => "Saved to {path}", "Guardado en {path}", "Сохранено в {path}";
    DeleteAccount => "Delete my account", "Eliminar mi cuenta", "Удалить аккаунт";
    DeleteConfirm => "This erases your account, orders, conversations and calls. It cannot be undone. Type DELETE to confirm.",
        "Esto borra tu cuenta, pedidos, conversaciones y llamadas. No se puede deshacer. Escribe DELETE para confirmar.",
        "Будут стёрты аккаунт, заказы, переписка и звонки. Это необратимо. Введите DELETE для подтверждения.";
    DeleteQueued => "Deleting your account… It completes as soon as you're online.", "Eliminando tu cuenta… Se completará en cuanto estés en línea.", "Удаляем аккаунт… Завершится, как только появится связь.";

    AgentMode => "Agent mode", "Modo agente", "Режим агента";
    ShopperMode => "Shopper view", "Vista de cliente", "Вид клиента";
    NavInbox => "Inbox", "Bandeja", "Входящие";
    NavQueue => "Call queue", "Cola de llamadas", "Очередь звонков";
    NavMetrics => "Metrics", "Métricas", "Метрики";
    NavCanned => "Saved replies", "Respuestas guardadas", "Шаблоны ответов";
    Available => "Available", "Disponible", "На месте";
    Away => "Away", "Ausente", "Отошёл";
    Unassigned => "Unassigned", "Sin asignar", "Без исполнителя";
    Mine => "Mine", "Mías", "Мои";
    All => "All", "Todas", "Все";
    SearchMessages => "Search messages", "Buscar en mensajes", "Поиск по сообщениям";
    AnyStatus => "Any status", "Cualquier estado", "Любой статус";
    HasOrder => "About an order", "Sobre un pedido", "По заказу";
    WaitingLonger => "Waiting over 1 h", "Esperando más de 1 h", "Ждут больше 1 ч";
    WaitingFor => "waiting {time}", "esperando {time}", "ждёт {time}";
    InboxEmptyUnassigned => "No one is waiting for an agent. Well done!", "Nadie espera a un agente. ¡Buen trabajo!", "Никто не ждёт агента. Отличная работа!";
    InboxEmptyMine => "No conversations are assigned to you right now.", "Ahora mismo no tienes conversaciones asignadas.", "Сейчас на вас не назначено ни одного обращения.";
    InboxEmptyAll => "No conversations yet. New ones appear here as soon as a customer writes.", "Aún no hay conversaciones. Las nuevas aparecen aquí en cuanto escribe un cliente.", "Обращений пока нет. Новые появятся здесь, как только напишет клиент.";
    InboxNoMatch => "No conversations match the search and filters.", "Ninguna conversación coincide con la búsqueda y los filtros.", "Нет обращений, подходящих под поиск и фильтры.";
    ClearFilters => "Clear search and filters", "Borrar búsqueda y filtros", "Сбросить поиск и фильтры";
    FilterStatus => "Status", "Estado", "Статус";
    InboxFiltersLabel => "Filter conversations", "Filtrar conversaciones", "Фильтр обращений";
    AgentPending => "Waiting for the customer", "Esperando al cliente", "Ждём клиента";
    Presence => "Your availability", "Tu disponibilidad", "Ваша доступность";
    CheckNow => "Check again", "Comprobar de nuevo", "Проверить снова";
    Claim => "Claim", "Asignarme", "Взять себе";
    AssignTo => "Assign to…", "Asignar a…", "Назначить…";
    SetPending => "Set pending", "Marcar pendiente", "Ждём клиента";
    Resolve => "Resolve", "Resolver", "Решено";
    Reopen => "Reopen", "Reabrir", "Открыть снова";
    NoteToggle => "Internal note", "Nota interna", "Внутренняя заметка";
    NotePlaceholder => "Note for the team (the customer never sees it)…", "Nota para el equipo (el cliente nunca la ve)…", "Заметка для команды (клиент её не увидит)…";
    NotePlaceholderShort => "Note for the team…", "Nota para el equipo…", "Заметка для команды…";
    NoteLabel => "Internal note", "Nota interna", "Внутренняя заметка";
    InsertCanned => "Insert a saved reply…", "Insertar respuesta guardada…", "Вставить шаблон…";
    Customer => "Customer", "Cliente", "Клиент";
    PreviousChats => "Conversations", "Conversaciones", "Обращения";
    CallbacksLabel => "Calls", "Llamadas", "Звонки";
    Rated => "rated {n}/5", "valorada {n}/5", "оценка {n}/5";
    NoAgentTitle => "All our agents are busy right now.", "Todos nuestros agentes están ocupados ahora.", "Все агенты сейчас заняты.";
    NoAgentBody => "We'll answer here as soon as someone is free — or we can call you back at a time that suits you.", "Te responderemos aquí en cuanto alguien quede libre, o podemos llamarte a la hora que prefieras.", "Мы ответим здесь, как только кто-то освободится, — или перезвоним в удобное вам время.";
    QueueTitle => "Call queue", "Cola de llamadas", "Очередь звонков";
    QueueEmpty => "No calls booked.", "No hay llamadas reservadas.", "Звонков не запланировано.";
    CustomerTime => "{time} their time", "{time} hora del cliente", "{time} по времени клиента";
    Overdue => "Overdue", "Atrasada", "Просрочен";
    StartCall => "Start", "Empezar", "Начать";
    Complete => "Mark done", "Marcar realizada", "Отметить: состоялся";
    MarkMissed => "Mark missed", "Marcar perdida", "Отметить: не дозвонились";
    OutcomeNote => "Note (optional)", "Nota (opcional)", "Заметка (необязательно)";
    MetricsTitle => "Support metrics", "Métricas de soporte", "Метрики поддержки";
    OpenCount => "Open", "Abiertas", "Открыто";
    WaitingCount => "Waiting", "En espera", "Ждут ответа";
    UnassignedCount => "Unassigned", "Sin asignar", "Без исполнителя";
    FirstResponse => "Median first response", "Mediana de primera respuesta", "Медиана первого ответа";
    Resolution => "Median resolution", "Mediana de resolución", "Медиана решения";
    Today => "Today", "Hoy", "Сегодня";
    Last7Days => "7 days", "7 días", "7 дней";
    Satisfaction => "Satisfaction", "Satisfacción", "Удовлетворённость";
    CallsDoneMissed => "Calls: completed vs missed (7 days)", "Llamadas: realizadas vs perdidas (7 días)", "Звонки: состоялись / пропущены (7 дней)";
    OpenedPerDay => "Conversations opened per day", "Conversaciones abiertas por día", "Новые обращения по дням";
    NoData => "no data", "sin datos", "нет данных";
    CannedTitle => "Saved replies", "Respuestas guardadas", "Шаблоны ответов";
    CannedHint => "Placeholders: {first_name}, {order_number}, {agent_name}", "Marcadores: {first_name}, {order_number}, {agent_name}", "Подстановки: {first_name}, {order_number}, {agent_name}";
    Title => "Title", "Título", "Название";
    Text => "Text", "Texto", "Текст";
    AddCanned => "Add saved reply", "Añadir respuesta", "Добавить шаблон";
    OnlineOnly => "This needs a connection.", "Esto necesita conexión.", "Для этого нужна связь.";

    AddNote => "Add note", "Añadir nota", "Добавить заметку";
    TimeNotSet => "Time not set yet", "Hora aún sin fijar", "Время пока не назначено";
    NoteModeOn => "Internal note: only your team will see this.", "Nota interna: solo la verá tu equipo.", "Внутренняя заметка: её увидит только ваша команда.";
    ComposerEmpty => "Write a message or attach a file to send.", "Escribe un mensaje o adjunta un archivo para enviarlo.", "Напишите сообщение или прикрепите файл, чтобы отправить.";
    NoteEmpty => "Write the note to add it.", "Escribe la nota para añadirla.", "Напишите заметку, чтобы добавить её.";
    CharCount => "{count} of {max} characters", "{count} de {max} caracteres", "Символов: {count} из {max}";
    PanelContactBy => "Prefers {list}.", "Prefiere {list}.", "Предпочитает: {list}.";
    PanelNoContact => "Has turned off every way of contact.", "Ha desactivado todas las formas de contacto.", "Отключил(а) все способы связи.";
    ContactEmailLower => "email", "correo", "эл. почта";
    ContactSmsLower => "SMS", "SMS", "СМС";
    ContactPushLower => "app notifications", "notificaciones de la app", "уведомления в приложении";
    ListAnd => " and ", " y ", " и ";
    PanelNoOrders => "No orders.", "Sin pedidos.", "Заказов нет.";
    PanelNoOtherChats => "No other conversations.", "No hay otras conversaciones.", "Других обращений нет.";
    PanelNoCalls => "No calls booked.", "No hay llamadas reservadas.", "Звонков не было.";
    FieldMessage => "Message", "Mensaje", "Сообщение";
    FieldSubject => "Subject", "Asunto", "Тема";
    FieldTopic => "Topic", "Tema", "Тема звонка";
    FieldComment => "Comment", "Comentario", "Комментарий";
    FieldNote => "Note", "Nota", "Заметка";
    FieldCountry => "Country", "País", "Страна";
    FieldTime => "Time", "Hora", "Время";
    FieldTimeZone => "Time zone", "Zona horaria", "Часовой пояс";
    FieldFile => "File", "Archivo", "Файл";
    FieldRating => "Rating", "Valoración", "Оценка";
    FieldAgent => "Agent", "Agente", "Сотрудник";
    FieldAddressName => "Name on the address", "Nombre en la dirección", "Имя получателя";
    ErrFieldRequired => "{field} is required.", "El campo «{field}» es obligatorio.", "Поле «{field}» обязательно для заполнения.";
    ErrFieldTooShort => "{field} is too short: use at least {n} characters.", "El campo «{field}» es demasiado corto: usa al menos {n} caracteres.", "Поле «{field}» слишком короткое: нужно не менее {n} символов.";
    ErrFieldTooLong => "{field} is too long: at most {n} characters.", "El campo «{field}» es demasiado largo: como máximo {n} caracteres.", "Поле «{field}» слишком длинное: не более {n} символов.";
    ErrFieldTooLongNoLimit => "{field} is too long. Please shorten it.", "El campo «{field}» es demasiado largo. Acórtalo, por favor.", "Поле «{field}» слишком длинное. Сократите его.";
    ErrFieldInvalid => "{field} isn't valid. Check it and try again.", "El campo «{field}» no es válido. Revísalo e inténtalo de nuevo.", "Поле «{field}» заполнено неверно. Проверьте и попробуйте снова.";
    ErrFieldCharacters => "{field} contains characters that can't be sent. Remove them and try again.", "El campo «{field}» contiene caracteres que no se pueden enviar. Quítalos e inténtalo de nuevo.", "Поле «{field}» содержит символы, которые нельзя отправить. Удалите их и попробуйте снова.";
    ErrPhoneFormat => "Enter the phone number with + and the country code, e.g. +34 911 23 45 67.", "Escribe el número de teléfono con + y el prefijo del país, p. ej. +34 911 23 45 67.", "Введите номер телефона с + и кодом страны, напр. +7 912 345-67-89.";
    ErrEmailFormat => "Enter a valid email address, e.g. name@example.com.", "Escribe un correo electrónico válido, p. ej. nombre@ejemplo.com.", "Введите правильный адрес эл. почты, напр. name@example.com.";
    ErrCountryFormat => "Enter the country as two letters, e.g. ES.", "Escribe el país con dos letras, p. ej. ES.", "Укажите страну двумя латинскими буквами, напр. RU.";
    ErrTimeGone => "That time can't be booked any more. Please pick another.", "Esa hora ya no se puede reservar. Elige otra.", "Это время больше нельзя выбрать. Выберите другое.";
    ErrFileLost => "A file could not be attached. Please attach it again.", "No se pudo adjuntar un archivo. Vuelve a adjuntarlo.", "Не удалось прикрепить файл. Прикрепите его снова.";
    ErrAgentUnavailable => "That person can't take conversations.", "Esa persona no puede atender conversaciones.", "Этот сотрудник не может вести обращения.";
    ErrSignInAgain => "Your session has ended. Please sign in again.", "Tu sesión ha terminado. Vuelve a iniciar sesión.", "Сеанс завершён. Войдите снова.";
    ErrNetwork => "Can't reach the support server. Check your connection and try again.",
        "No se puede contactar con el servidor de soporte. Comprueba tu conexión e inténtalo de nuevo.",
        "Не удаётся связаться с сервером поддержки. Проверьте подключение и повторите попытку.";
    ErrCredentials => "That email and password don't match.", "El correo y la contraseña no coinciden.", "Неверная эл. почта или пароль.";
    ErrRateLimited => "Too many attempts. Please wait a few minutes.", "Demasiados intentos. Espera unos minutos.", "Слишком много попыток. Подождите несколько минут.";
    ErrConflict => "That's already taken.", "Eso ya está ocupado.", "Это уже занято.";
    ErrTooManyCalls => "You already have as many upcoming calls as one person can book. Cancel one to book another.", "Ya tienes tantas llamadas pendientes como se pueden reservar. Cancela una para reservar otra.", "У вас уже запланировано максимальное число звонков. Отмените один, чтобы заказать новый.";
    ErrTooManyAddresses => "You can keep up to {n} addresses. Remove one to add another.", "Puedes guardar hasta {n} direcciones. Elimina una para añadir otra.", "Можно хранить не больше {n} адресов. Удалите один, чтобы добавить новый.";
    ErrTooManyUploads => "Too many files are waiting to be sent. Send or remove some before attaching more.", "Hay demasiados archivos pendientes de enviar. Envía o quita algunos antes de adjuntar más.", "Слишком много файлов ждут отправки. Отправьте или уберите часть, прежде чем прикреплять новые.";
    ErrPhoneLimit => "This phone number already has as many upcoming calls as can be booked. Use another number or cancel a call.", "Este número de teléfono ya tiene el máximo de llamadas pendientes. Usa otro número o cancela una llamada.", "На этот номер уже запланировано максимальное число звонков. Укажите другой номер или отмените звонок.";
    ErrEmailTaken => "An account with that email already exists.", "Ya existe una cuenta con ese correo.", "Аккаунт с такой почтой уже существует.";
    ErrSlotTaken => "That time was just taken. Please pick another.", "Esa hora se acaba de ocupar. Elige otra.", "Это время только что заняли. Выберите другое.";
    ErrInvalid => "Something in the form isn't right. Check it and try again.", "Algo del formulario no es correcto. Revísalo e inténtalo de nuevo.", "В форме есть ошибка. Проверьте и попробуйте снова.";
    ErrTooLarge => "That file is too big (10 MB at most).", "El archivo es demasiado grande (máximo 10 MB).", "Файл слишком большой (не более 10 МБ).";
    ErrFileType => "Only photos (PNG, JPEG, GIF, WebP) and PDF files can be attached.", "Solo se pueden adjuntar fotos (PNG, JPEG, GIF, WebP) y PDF.", "Можно прикреплять только фото (PNG, JPEG, GIF, WebP) и PDF.";
    ErrForbidden => "You're not allowed to do that.", "No tienes permiso para hacer eso.", "У вас нет прав на это действие.";
    ErrNotFound => "That no longer exists.", "Eso ya no existe.", "Этого больше не существует.";
    ErrIdentityExpired => "The shop's sign-in has expired. Reload the shop's page and open the chat again, or sign in below.", "El acceso desde la tienda ha caducado. Vuelve a cargar la página de la tienda y abre el chat otra vez, o inicia sesión aquí.", "Вход из магазина устарел. Обновите страницу магазина и снова откройте чат или войдите ниже.";
    ErrIdentityReplayed => "This sign-in from the shop was already used. Reload the shop's page and open the chat again, or sign in below.", "Este acceso desde la tienda ya se usó. Vuelve a cargar la página de la tienda y abre el chat otra vez, o inicia sesión aquí.", "Этот вход из магазина уже использован. Обновите страницу магазина и снова откройте чат или войдите ниже.";
    ErrIdentityInvalid => "The shop could not sign you in here. Sign in with your email and password below.", "La tienda no ha podido iniciar tu sesión aquí. Inicia sesión con tu correo y contraseña.", "Магазину не удалось выполнить вход. Войдите с эл. почтой и паролем ниже.";
    ErrIdentityNotConfigured => "Signing in from the shop is not set up yet. Sign in with your email and password below.", "El acceso desde la tienda aún no está configurado. Inicia sesión con tu correo y contraseña.", "Вход из магазина ещё не настроен. Войдите с эл. почтой и паролем ниже.";
    IdentityOtherUnsent => "Changes {name} made on this device are not sent yet. Sign in below to choose what happens to them.", "Hay cambios de {name} en este dispositivo que aún no se han enviado. Inicia sesión aquí para elegir qué hacer con ellos.", "На этом устройстве есть неотправленные изменения {name}. Войдите ниже, чтобы решить, что с ними делать.";
    ErrGeneric => "Something went wrong on our side. Please try again.", "Algo ha fallado por nuestra parte. Inténtalo de nuevo.", "Что-то пошло не так на нашей стороне. Повторите попытку.";
}

/// Texts that count something, in each language's plural forms. English
/// and Spanish tell `one` from `other`; Russian has `one`, `few` and `many`
/// (fractions, `other`, take the `many` form). The category comes from the
/// platform's `Intl.PluralRules` ([`crate::fmt::plural`]); `{n}` is the
/// count, formatted for the language. See [`count`].
macro_rules! counts {
    ($($key:ident => en($en1:expr, $en:expr), es($es1:expr, $es:expr), ru($ru1:expr, $ru2:expr, $ru5:expr);)*) => {
        /// A UI text with a count in it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum N { $($key),* }

        impl N {
            pub const ALL: &'static [N] = &[$(N::$key),*];

            /// The form for a CLDR plural category (`one`, `few`, `many`, `other`).
            pub fn form(self, lang: Lang, category: &str) -> &'static str {
                match self {
                    $(N::$key => match (lang, category) {
                        (Lang::En, "one") => $en1,
                        (Lang::En, _) => $en,
                        (Lang::Es, "one") => $es1,
                        (Lang::Es, _) => $es,
                        (Lang::Ru, "one") => $ru1,
                        (Lang::Ru, "few") => $ru2,
                        (Lang::Ru, _) => $ru5,
                    }),*
                }
            }
        }
    };
}

counts! {
    UnsentChanges => en("{n} unsent change will be lost if you sign out now. Sign out anyway?",
            "{n} unsent changes will be lost if you sign out now. Sign out anyway?"),
        es("Si cierras sesión ahora se perderá {n} cambio sin enviar. ¿Cerrar sesión igualmente?",
            "Si cierras sesión ahora se perderán {n} cambios sin enviar. ¿Cerrar sesión igualmente?"),
        ru("{n} неотправленное изменение будет потеряно, если выйти сейчас. Всё равно выйти?",
            "{n} неотправленных изменения будут потеряны, если выйти сейчас. Всё равно выйти?",
            "{n} неотправленных изменений будут потеряны, если выйти сейчас. Всё равно выйти?");
    WaitingToSend => en("{n} change waiting to send", "{n} changes waiting to send"),
        es("{n} cambio por enviar", "{n} cambios por enviar"),
        ru("{n} изменение ждёт отправки", "{n} изменения ждут отправки", "{n} изменений ждут отправки");
    NeedAttention => en("{n} change needs your attention", "{n} changes need your attention"),
        es("{n} cambio requiere tu atención", "{n} cambios requieren tu atención"),
        ru("{n} изменение требует внимания", "{n} изменения требуют внимания", "{n} изменений требуют внимания");
    NewMessages => en("{n} new", "{n} new"),
        es("{n} nuevo", "{n} nuevos"),
        ru("{n} новое", "{n} новых", "{n} новых");
    MoreLeft => en("Show more ({n} conversation left)", "Show more ({n} conversations left)"),
        es("Mostrar más (queda {n} conversación)", "Mostrar más (quedan {n} conversaciones)"),
        ru("Показать ещё (осталось {n} обращение)", "Показать ещё (осталось {n} обращения)", "Показать ещё (осталось {n} обращений)");
    UnsentOfOther => en("{n} change made by {name} on this device has not been sent. Signing in with another account discards it:",
            "{n} changes made by {name} on this device have not been sent. Signing in with another account discards them:"),
        es("{n} cambio hecho por {name} en este dispositivo no se ha enviado. Iniciar sesión con otra cuenta lo descarta:",
            "{n} cambios hechos por {name} en este dispositivo no se han enviado. Iniciar sesión con otra cuenta los descarta:"),
        ru("{name}: {n} неотправленное изменение на этом устройстве. Вход под другим аккаунтом удалит его:",
            "{name}: {n} неотправленных изменения на этом устройстве. Вход под другим аккаунтом удалит их:",
            "{name}: {n} неотправленных изменений на этом устройстве. Вход под другим аккаунтом удалит их:");
}

/// A counting text for `n`, in the form `lang` uses for that number.
pub fn count(lang: Lang, key: N, n: i64) -> String {
    fill(
        key.form(lang, crate::fmt::plural(lang, n)),
        &[("n", &crate::fmt::number(lang, n))],
    )
}

/// Fills `{name}` placeholders.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in args {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// A human sentence for an error, in the user's language: never the raw
/// code; a refused field is named, with its limit when it has one.
pub fn error_text(lang: Lang, err: &ApiError) -> String {
    if matches!(
        err.code,
        ErrorCode::ValidationFailed | ErrorCode::BadRequest | ErrorCode::Conflict
    ) {
        if let Some((field, problem)) = err.field_problem() {
            if let Some(text) = field_text(lang, field, problem) {
                return text;
            }
        }
    }
    let k = match err.code {
        ErrorCode::Unavailable => K::ErrNetwork,
        // Signing in: wrong credentials; anything else: the session ended.
        ErrorCode::Unauthorized if err.message.contains("sign in first") => K::ErrSignInAgain,
        ErrorCode::Unauthorized => K::ErrCredentials,
        ErrorCode::RateLimited => K::ErrRateLimited,
        ErrorCode::Conflict if err.message.contains("email") => K::ErrEmailTaken,
        ErrorCode::Conflict
            if err
                .details
                .as_ref()
                .is_some_and(|d| d.get("nearest_slots").is_some()) =>
        {
            K::ErrSlotTaken
        }
        // Booking limits (`details.reason`).
        ErrorCode::Conflict if reason(err) == Some("too_many_upcoming") => K::ErrTooManyCalls,
        ErrorCode::Conflict if reason(err) == Some("phone_limit") => K::ErrPhoneLimit,
        // Upload quota (`details.reason`).
        ErrorCode::Conflict
            if matches!(
                reason(err),
                Some("too_many_unsent_uploads" | "unsent_uploads_too_large")
            ) =>
        {
            K::ErrTooManyUploads
        }
        ErrorCode::Conflict => K::ErrConflict,
        ErrorCode::PayloadTooLarge => K::ErrTooLarge,
        ErrorCode::ValidationFailed if err.message.contains("PDF") => K::ErrFileType,
        ErrorCode::ValidationFailed | ErrorCode::BadRequest => K::ErrInvalid,
        ErrorCode::Forbidden => K::ErrForbidden,
        // The shop's signed identity (the widget), refused.
        ErrorCode::IdentityExpired => K::ErrIdentityExpired,
        ErrorCode::IdentityReplayed => K::ErrIdentityReplayed,
        ErrorCode::IdentityInvalid => K::ErrIdentityInvalid,
        ErrorCode::IdentityNotConfigured => K::ErrIdentityNotConfigured,
        ErrorCode::NotFound => K::ErrNotFound,
        _ => K::ErrGeneric,
    };
    k.text(lang).to_owned()
}

/// `details.reason` of a refusal, when it has one.
fn reason(err: &ApiError) -> Option<&str> {
    err.details.as_ref()?.get("reason")?.as_str()
}

/// "a, b and c" in the user's language.
pub fn and_list(lang: Lang, items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{}{}{last}", init.join(", "), K::ListAnd.text(lang)),
    }
}

/// The label of a field named by the server (`details.fields`), `None`
/// for a field no form shows.
pub fn field_label(field: &str) -> Option<K> {
    Some(match field {
        "password" => K::Password,
        "current_password" => K::CurrentPassword,
        "new_password" => K::NewPassword,
        "confirm_password" => K::ConfirmPassword,
        "code" => K::FieldCode,
        "email" | "customer_email" => K::Email,
        "display_name" => K::DisplayName,
        "name" => K::FieldAddressName,
        "body" => K::FieldMessage,
        "subject" => K::FieldSubject,
        "phone" => K::Phone,
        "topic" => K::FieldTopic,
        "comment" => K::FieldComment,
        "note" => K::FieldNote,
        "title" => K::Title,
        "line1" => K::Street,
        "city" => K::City,
        "postal_code" => K::PostalCode,
        "country" | "shipping_address.country" => K::FieldCountry,
        "language" => K::Language,
        "windows" => K::FieldTime,
        "time_zone" => K::FieldTimeZone,
        "file" | "filename" | "attachment_ids" => K::FieldFile,
        "score" => K::FieldRating,
        "assigned_agent_id" => K::FieldAgent,
        "addresses" => K::Addresses,
        _ => return None,
    })
}

/// The limit behind a `too_short` / `too_long` refusal of `field`.
pub fn field_limit(field: &str, problem: &str) -> Option<usize> {
    use mostrador_core::{auth, callbacks, chat};
    Some(match (field, problem) {
        ("password", "too_short") => auth::MIN_PASSWORD_LEN,
        ("password", _) => auth::MAX_PASSWORD_LEN,
        ("new_password", "too_short") => auth::MIN_PASSWORD_LEN,
        ("new_password", _) => auth::MAX_PASSWORD_LEN,
        ("code", _) => auth::EMAIL_CODE_LEN,
        ("display_name", _) => auth::MAX_NAME_CHARS,
        ("body", _) => chat::MAX_MESSAGE_CHARS,
        ("subject", _) => chat::MAX_SUBJECT_CHARS,
        ("comment", _) => chat::MAX_COMMENT_CHARS,
        ("topic", _) => callbacks::MAX_TOPIC_CHARS,
        ("note", _) => callbacks::MAX_OUTCOME_NOTE_CHARS,
        ("title", _) => mostrador_core::agent::MAX_CANNED_TITLE_CHARS,
        ("addresses", _) => mostrador_core::profile::MAX_ADDRESSES,
        _ => return None,
    })
}

/// A sentence naming `field` and what is wrong with it (`problem` as the
/// server spells it); `None` when the field is one no form shows.
pub fn field_text(lang: Lang, field: &str, problem: &str) -> Option<String> {
    let label = field_label(field)?.text(lang);
    let n = field_limit(field, problem).map(|n| crate::fmt::number(lang, n as i64));
    let k = match (field, problem) {
        ("email", "taken") => K::ErrEmailTaken,
        ("email" | "customer_email", _) => K::ErrEmailFormat,
        ("phone", "required") => K::ErrFieldRequired,
        ("phone", _) => K::ErrPhoneFormat,
        ("country" | "shipping_address.country", _) => K::ErrCountryFormat,
        ("windows", "required") => K::ErrFieldRequired,
        ("windows", _) => K::ErrTimeGone,
        ("file", _) => K::ErrFileType,
        ("filename", _) => K::ErrFieldRequired,
        ("attachment_ids", _) => K::ErrFileLost,
        ("assigned_agent_id", _) => K::ErrAgentUnavailable,
        ("addresses", "too_many") => K::ErrTooManyAddresses,
        ("current_password", "wrong") => K::ErrCurrentPasswordWrong,
        ("confirm_password", _) => K::ErrPasswordsDiffer,
        ("code", "format") => K::ErrCodeFormat,
        ("code", "invalid") => K::ErrCodeWrong,
        (_, "required") => K::ErrFieldRequired,
        (_, "too_short") if n.is_some() => K::ErrFieldTooShort,
        (_, "too_long") if n.is_some() => K::ErrFieldTooLong,
        (_, "too_long") => K::ErrFieldTooLongNoLimit,
        (_, "invalid_characters") => K::ErrFieldCharacters,
        _ => K::ErrFieldInvalid,
    };
    Some(fill(
        k.text(lang),
        &[("field", label), ("n", n.as_deref().unwrap_or_default())],
    ))
}

/// A tracking status's label (core's, the one notifications word too).
pub use mostrador_core::lang::tracking_status;

pub fn conversation_status(s: ConversationStatus) -> K {
    match s {
        ConversationStatus::Open => K::ChatOpen,
        ConversationStatus::Pending => K::ChatPending,
        ConversationStatus::Resolved => K::ChatResolved,
    }
}

/// A conversation's status as staff read it: "pending" waits for the
/// customer (the shopper's wording, "waiting for you", would say the
/// opposite to an agent).
pub fn agent_conversation_status(s: ConversationStatus) -> K {
    match s {
        ConversationStatus::Pending => K::AgentPending,
        other => conversation_status(other),
    }
}

pub fn callback_status(s: CallbackStatus) -> K {
    match s {
        CallbackStatus::Requested => K::CallRequested,
        CallbackStatus::Scheduled => K::CallScheduled,
        CallbackStatus::InProgress => K::CallInProgress,
        CallbackStatus::Completed => K::CallCompleted,
        CallbackStatus::Missed => K::CallMissed,
        CallbackStatus::Cancelled => K::CallCancelled,
    }
}

pub fn channel(c: CallbackChannel) -> K {
    match c {
        CallbackChannel::Voice => K::Voice,
        CallbackChannel::Video => K::Video,
    }
}

pub fn phone_error(e: PhoneError) -> K {
    match e {
        PhoneError::MissingPlus => K::PhoneMissingPlus,
        PhoneError::InvalidCharacter => K::PhoneBadChar,
        PhoneError::LeadingZero => K::PhoneLeadingZero,
        PhoneError::TooShort => K::PhoneKeepTyping,
        PhoneError::TooLong => K::PhoneTooLong,
    }
}
